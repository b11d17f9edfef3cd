// The package layout, checked: every workspace declares exactly the packages its source imports, no
// package imports one above it, and core stays browser-safe (no `node:` import; it bundles for the
// browser with esbuild). Tests (`*.test.ts`) may also import the workspace's devDependencies and the
// root's. See the README's layout table for the ranks.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Dependencies point down: a package imports only packages of a lower rank. */
const ranks: Record<string, number> = {
  '@gantry/core': 0,
  '@gantry/files': 1,
  '@gantry/inference-node': 2,
  '@gantry/inference-web': 2,
  '@gantry/export': 3,
  '@gantry/training': 4,
  '@gantry/cli': 5,
  '@gantry/e2e': 6,
  '@gantry/bench': 6,
};

interface Workspace {
  dir: string;
  name: string;
  dependencies: Set<string>;
  /** Packages only its tests import. */
  devDependencies: Set<string>;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

const rootManifest = readJson(join(root, 'package.json'));
const rootDevDependencies = new Set(Object.keys((rootManifest.devDependencies as object | undefined) ?? {}));
const workspaces: Workspace[] = (rootManifest.workspaces as string[]).map((dir) => {
  const manifest = readJson(join(root, dir, 'package.json'));
  const dependencies = { ...(manifest.dependencies as object), ...(manifest.optionalDependencies as object) };
  const devDependencies = new Set(Object.keys((manifest.devDependencies as object | undefined) ?? {}));
  return { dir, name: manifest.name as string, dependencies: new Set(Object.keys(dependencies)), devDependencies };
});

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every module specifier a file names: static, type-only, side-effect and dynamic imports, re-exports, require(.resolve). */
export function specifiersOf(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const found = info.importedFiles.map((file) => file.fileName);
  for (const match of text.matchAll(/\brequire\.resolve\(\s*['"]([^'"]+)['"]/g)) found.push(match[1] as string);
  return found;
}

const builtins = new Set(builtinModules);

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or null for relative and built-in ones. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
  return builtins.has(name) ? null : name;
}

function importsOf(workspace: Workspace): { runtime: Map<string, string>; tests: Map<string, string> } {
  const runtime = new Map<string, string>();
  const tests = new Map<string, string>();
  for (const file of sourceFiles(join(root, workspace.dir, 'src'))) {
    const target = file.endsWith('.test.ts') ? tests : runtime;
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      const name = packageOf(specifier);
      if (name !== null && name !== workspace.name && !target.has(name)) target.set(name, relative(root, file));
    }
  }
  return { runtime, tests };
}

test('the import scanner sees every kind of import', () => {
  const text = [
    "import a from 'pkg-a';",
    "import type { B } from '@scope/b/sub';",
    "import 'side-effect';",
    "export { c } from 'pkg-c';",
    "const d = await import('pkg-d');",
    "type E = typeof import('pkg-e');",
    "const f = require('pkg-f');",
    // Split so that this file's own scan does not see it.
    `require${'.'}resolve('pkg-g/package.json');`,
    "import { readFile } from 'node:fs/promises'; import path from 'path'; import x from './x.js';",
  ].join('\n');
  const names = specifiersOf(text)
    .map(packageOf)
    .filter((name) => name !== null);
  assert.deepEqual(names.sort(), ['@scope/b', 'pkg-a', 'pkg-c', 'pkg-d', 'pkg-e', 'pkg-f', 'pkg-g', 'side-effect']);
});

/** `@types/x` (or `@types/scope__x`) is the type package of x: it is used wherever x is imported. */
function typedPackage(name: string): string | null {
  if (!name.startsWith('@types/')) return null;
  const bare = name.slice('@types/'.length);
  return bare.includes('__') ? `@${bare.replace('__', '/')}` : bare;
}

for (const workspace of workspaces) {
  test(`${workspace.dir}: package.json declares exactly what its source imports`, () => {
    const { runtime, tests } = importsOf(workspace);
    const imported = (name: string): boolean => {
      const typed = typedPackage(name);
      return typed === null ? runtime.has(name) || tests.has(name) : runtime.has(typed) || tests.has(typed);
    };
    const undeclared = [...runtime]
      .filter(([name]) => !workspace.dependencies.has(name))
      .map(([name, file]) => `${name} (${file})`);
    assert.deepEqual(undeclared, [], `${workspace.dir}/package.json lacks dependencies its source imports`);
    const unused = [...workspace.dependencies].filter((name) => !imported(name));
    assert.deepEqual(unused, [], `${workspace.dir}/package.json declares dependencies nothing imports`);
    const testOnly = [...tests].filter(
      ([name]) => !workspace.dependencies.has(name) && !workspace.devDependencies.has(name) && !rootDevDependencies.has(name),
    );
    assert.deepEqual(
      testOnly.map(([name, file]) => `${name} (${file})`),
      [],
      'tests import packages that are neither its dependencies, its devDependencies nor root devDependencies',
    );
    const unusedDev = [...workspace.devDependencies].filter((name) =>
      typedPackage(name) === null ? !tests.has(name) : !imported(name),
    );
    assert.deepEqual(unusedDev, [], `${workspace.dir}/package.json declares devDependencies no test imports`);
  });

  test(`${workspace.dir}: imports only packages below it`, () => {
    const rank = ranks[workspace.name];
    assert.notEqual(rank, undefined, `${workspace.name} has no rank in structure.test.ts`);
    const { runtime, tests } = importsOf(workspace);
    const upward = [...runtime, ...tests]
      .filter(([name]) => name.startsWith('@gantry/'))
      .filter(([name]) => (ranks[name] ?? Number.POSITIVE_INFINITY) >= (rank as number))
      .map(([name, file]) => `${name} (${file})`);
    assert.deepEqual(upward, [], `${workspace.name} imports packages at or above its own rank`);
  });
}

test('every workspace references in tsconfig.json exactly the @gantry packages it depends on', () => {
  for (const workspace of workspaces) {
    const tsconfig = readJson(join(root, workspace.dir, 'tsconfig.json')) as { references?: { path: string }[] };
    const referenced = (tsconfig.references ?? [])
      .map(({ path }) => relative(root, join(root, workspace.dir, path)))
      .map((dir) => workspaces.find((w) => w.dir === dir)?.name ?? `unknown folder ${dir}`)
      .sort();
    const declared = [...workspace.dependencies, ...workspace.devDependencies]
      .filter((name) => name.startsWith('@gantry/'))
      .sort();
    assert.deepEqual(referenced, declared, `${workspace.dir}/tsconfig.json references`);
  }
});

test('core has no node: import and no Node built-in', () => {
  const core = workspaces.find((w) => w.name === '@gantry/core');
  assert.ok(core);
  const offending = sourceFiles(join(root, core.dir, 'src'))
    .filter((file) => !file.endsWith('.test.ts'))
    .flatMap((file) => specifiersOf(readFileSync(file, 'utf8')).map((specifier) => ({ file, specifier })))
    .filter(({ specifier }) => specifier.startsWith('node:') || builtins.has(specifier.split('/')[0] as string))
    .map(({ file, specifier }) => `${relative(root, file)}: ${specifier}`);
  assert.deepEqual(offending, []);
});

async function bundleForBrowser(entry: { path: string } | { contents: string }) {
  return build({
    ...('path' in entry
      ? { entryPoints: [entry.path] }
      : { stdin: { contents: entry.contents, resolveDir: root, loader: 'ts' } }),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

test('core bundles for the browser with esbuild, with no Node built-in', async () => {
  const result = await bundleForBrowser({ path: join(root, 'core', 'src', 'index.ts') });
  assert.deepEqual(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((input) => input.includes('core/src/card.ts')));
  assert.deepEqual(
    inputs.filter((input) => input.startsWith('node:') || builtins.has(input)),
    [],
  );
  // The same bundling refuses a module that needs Node, so the check above can fail.
  await assert.rejects(bundleForBrowser({ contents: "import { readFileSync } from 'node:fs'; export const r = readFileSync;" }));
});
