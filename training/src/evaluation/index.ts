export * from './classifier.js';
export * from './classifier-data.js';
export * from './scores.js';
export * from './feature-metrics.js';
export * from './evaluate.js';
