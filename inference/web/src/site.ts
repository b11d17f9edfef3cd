// Where the built explorer site is (Node only): for `gantry serve` and the tests. Build it with
// `npm run build` or `npm run build:web`.
import { fileURLToPath } from 'node:url';

export const siteDir = fileURLToPath(new URL('site', import.meta.url));
