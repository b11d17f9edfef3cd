export * from './card.js';
export * from './rng.js';
export * from './latents.js';
export * from './classes.js';
export * from './errors.js';
export * from './requests.js';
export * from './samples.js';
