export * from './card.js';
export * from './rng.js';
export * from './latents.js';
export * from './classes.js';
