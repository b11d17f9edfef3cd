export * from './static-server.js';
export * from './chromium.js';
