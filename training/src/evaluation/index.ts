export * from './classifier.js';
export * from './classifier-data.js';
export * from './scores.js';
export * from './feature-metrics.js';
export * from './evaluate.js';
export * from './in-training.js';
export * from './stacked-mnist.js';
