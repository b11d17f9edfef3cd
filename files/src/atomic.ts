// Everything a run writes goes through a temporary name and a rename, so a crash (or SIGKILL) leaves
// either the previous complete file or the new complete file, never a torn one.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
 * Fills a fresh temporary folder through `fill`, then renames it to `path` in one step; an existing
 * folder at `path` is replaced.
 */
export async function writeFolderAtomic(path: string, fill: (write: (name: string, data: string | Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = temporarySibling(path);
  await mkdir(temp);
  try {
    await fill(async (name, data) => {
      const target = join(temp, name);
      await mkdir(dirname(target), { recursive: true });
      await writeAndSync(target, data);
    });
    await rm(path, { recursive: true, force: true });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
