// Runs every compiled test file (`dist/**/*.test.js` in each workspace) with node's test runner.
// Node 20's `--test` takes no globs, so the files are listed here. Extra arguments are passed
// through as name filters: `npm test -- export` runs only files whose path contains "export".
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensurePrerequisites } from './prerequisites.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const workspaces = ['core', 'files', 'inference/node', 'inference/web', 'export', 'training', 'cli', 'test'];

// A compiled test whose TypeScript source is gone (deleted or moved) is stale: tsc never removes it
// from dist/, so only tests with a source beside them are run.
function sourceExists(compiled) {
  const source = compiled.replace(`${sep}dist${sep}`, `${sep}src${sep}`).replace(/\.js$/, '.ts');
  return existsSync(source);
}

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js') && sourceExists(path)) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = workspaces
  .flatMap((ws) => collect(join(root, ws, 'dist'), []))
  .filter((file) => filters.length === 0 || filters.some((f) => relative(root, file).includes(f)));
if (files.length === 0) {
  console.error(`no test files found${filters.length ? ` matching ${filters.join(', ')}` : ''}; did the build run?`);
  process.exit(1);
}
// ONNX's checker and Chromium are set up (or the run stops with the command to run) before any test.
let prerequisites;
try {
  prerequisites = ensurePrerequisites();
} catch (error) {
  console.error(`error: ${error.message}`);
  process.exit(1);
}
const started = Date.now();
const env = { ...process.env, ...prerequisites };
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', cwd: root, env });
console.log(`test wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(result.status ?? 1);
