// Everything a run writes goes through a temporary name and a rename, so a crash (or SIGKILL) leaves
// either the previous complete file or folder or the new complete one, never a torn one. Temporaries are
// hidden siblings named `.<name>.<pid>.<random>.tmp`; a writer killed mid-way leaves one behind, which
// removeStaleTemporaries deletes once its process is gone.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GantryError, messageOf } from '@gantry/core';

const TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function writeAndSync(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface StagedFile {
  /** The hidden temporary file holding the data, flushed to disk. */
  temp: string;
  /** Renames the temporary file to its final path. */
  commit(): Promise<void>;
  /** Removes the temporary file if it was not committed. */
  discard(): Promise<void>;
}

/**
 * Writes `data` next to `path` under a hidden temporary name; several files can be staged and then
 * committed together, so none appears before all are written.
 */
export async function stageFile(path: string, data: string | Uint8Array): Promise<StagedFile> {
  await mkdir(dirname(path), { recursive: true });
  const temp = temporarySibling(path);
  try {
    await writeAndSync(temp, data);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { temp, commit: () => rename(temp, path), discard: () => rm(temp, { force: true }) };
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const staged = await stageFile(path, data);
  try {
    await staged.commit();
  } catch (error) {
    await staged.discard();
    throw error;
  }
}

/**
 * Fails unless `path` can be a folder: it is one, or it is missing and its nearest existing ancestor is a
 * folder. `what` names it in the message (e.g. "--out").
 */
export async function checkFolderPath(path: string, what: string): Promise<void> {
  for (let at = path; ; at = dirname(at)) {
    const info = await stat(at).catch(() => undefined);
    if (info?.isDirectory()) return;
    if (info !== undefined) {
      const where = at === path ? `${path} is a file` : `${at} (in ${path}) is a file`;
      throw new GantryError('not-a-folder', `${what}: ${where}, not a folder; give a folder path (it is created when missing)`);
    }
    if (dirname(at) === at) return;
  }
}

/** The file-system steps of a folder swap, replaceable so that tests can make each one fail. */
export interface FolderSteps {
  mkdir(path: string): Promise<void>;
  /** Writes a file and flushes it to disk. */
  write(path: string, data: string | Uint8Array): Promise<void>;
  /** Copies a file or folder (recursively). */
  copy(from: string, to: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

const realSteps: FolderSteps = {
  mkdir: async (path) => {
    await mkdir(path, { recursive: true });
  },
  write: writeAndSync,
  copy: (from, to) => cp(from, to, { recursive: true }),
  rename,
  remove: (path) => rm(path, { recursive: true, force: true }),
};

export interface WriteFolderOptions {
  /** Entries of the folder being replaced that the new one keeps (copied in unless written anew). */
  keep?: (name: string) => boolean;
  /** Replacement file-system steps (tests inject failures here). */
  steps?: Partial<FolderSteps>;
}

/**
 * Fills a fresh hidden folder beside `path` through `fill`, then swaps it in: the folder at `path`, if
 * any, is renamed aside, the new one renamed to `path`, and the old one removed. A reader therefore sees
 * the old folder whole or the new folder whole; if a rename fails the old folder is put back and the
 * error says so.
 */
export async function writeFolderAtomic(
  path: string,
  fill: (write: (name: string, data: string | Uint8Array) => Promise<void>) => Promise<void>,
  options: WriteFolderOptions = {},
): Promise<void> {
  const fs: FolderSteps = { ...realSteps, ...options.steps };
  await checkFolderPath(path, 'folder');
  const existing = await stat(path).catch(() => undefined);
  const staging = temporarySibling(path);
  const written = new Set<string>();
  try {
    await fs.mkdir(staging);
    await fill(async (name, data) => {
      const target = join(staging, name);
      await fs.mkdir(dirname(target));
      await fs.write(target, data);
      written.add(name.split('/')[0]!);
    });
    if (existing !== undefined && options.keep !== undefined) {
      for (const name of await readdir(path)) {
        if (options.keep(name) && !written.has(name)) await fs.copy(join(path, name), join(staging, name));
      }
    }
  } catch (error) {
    await fs.remove(staging).catch(() => {});
    if (error instanceof GantryError || !isFileSystemError(error)) throw error;
    throw new GantryError('folder-write', `cannot write ${path}: ${messageOf(error)}`, { cause: error });
  }
  const aside = existing === undefined ? undefined : temporarySibling(path);
  if (aside !== undefined) {
    try {
      await fs.rename(path, aside);
    } catch (error) {
      await fs.remove(staging).catch(() => {});
      throw new GantryError(
        'folder-swap',
        `cannot replace ${path}: moving the old folder aside failed (${messageOf(error)}); it is unchanged`,
        { cause: error },
      );
    }
  }
  try {
    await fs.rename(staging, path);
  } catch (error) {
    const restored =
      aside === undefined ||
      (await fs.rename(aside, path).then(
        () => true,
        () => false,
      ));
    if (restored) await fs.remove(staging).catch(() => {});
    const old = restored
      ? 'the old folder is unchanged'
      : `the old folder is at ${aside} and the new one at ${staging}: rename one of them to ${path}`;
    throw new GantryError(
      'folder-swap',
      `cannot replace ${path}: renaming the new folder into place failed (${messageOf(error)}); ${old}`,
      { cause: error },
    );
  }
  // The swap is done; an old folder left behind (hidden) is removed by removeStaleTemporaries later.
  if (aside !== undefined) await fs.remove(aside).catch(() => {});
}

function isFileSystemError(error: unknown): boolean {
  return (
    typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string' &&
    (error as NodeJS.ErrnoException).syscall !== undefined
  );
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporaries in `dir` that writers killed mid-way left behind (those of live processes are
 * kept); returns the names removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (match === null || processIsAlive(Number(match[1]))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
