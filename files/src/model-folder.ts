// The model folder: the on-disk contract between export and every runtime. A models folder holds one
// sub-folder per model, each with card.json (a Gantry model card) and the ONNX file the card names.
// Reading a model folder verifies the pair: the card must validate, its name must be the folder's,
// and the ONNX file must hash to the card's sha256, so a half-copied or mismatched export is refused
// before anything is served from it.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GantryError, parseCard, type ModelCard, messageOf } from '@gantry/core';
import { removeStaleTemporaries, writeFolderAtomic, type FolderSteps } from './atomic.js';

export const CARD_FILE = 'card.json';
export const ONNX_FILE = 'generator.onnx';

export const MODEL_FOLDER_LAYOUT =
  `each model is a subfolder <name>/ holding ${CARD_FILE} (a Gantry model card) and the ONNX file it names ` +
  `(${ONNX_FILE}), as written by the exporter`;

/** The models folder is missing, unreadable or holds no model. */
export class ModelsFolderError extends GantryError {
  override name = 'ModelsFolderError';
  constructor(
    message: string,
    readonly folder: string,
    options: { cause?: unknown } = {},
  ) {
    super('models-folder', message, options);
  }
}

/** One model folder could not be loaded; `file` is the offending file. */
export class ModelLoadError extends GantryError {
  override name = 'ModelLoadError';
  constructor(
    message: string,
    readonly file: string,
    options: { cause?: unknown; code?: string } = {},
  ) {
    super(options.code ?? 'model-load', message, options);
  }
}

/** The ONNX file's SHA-256 is not the one its card records. */
export class HashMismatchError extends ModelLoadError {
  override name = 'HashMismatchError';
  constructor(
    file: string,
    /** The SHA-256 the card records. */
    readonly cardSha256: string,
    /** The file's SHA-256. */
    readonly actual: string,
    cardPath: string,
  ) {
    super(
      `${file}: SHA-256 is ${actual} but ${cardPath} expects ${cardSha256}; the ONNX file does not belong to this card (re-export the model or copy the matching pair)`,
      file,
      { code: 'model-hash-mismatch' },
    );
  }
}

/** SHA-256 of a file as lowercase hex, streamed so large models are not read into memory at once. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The names of the model sub-folders of `folder` (those holding card.json), sorted. Fails if the
 * folder is missing or unreadable, or (unless `allowEmpty`) holds no model.
 */
export async function findModelFolders(folder: string, allowEmpty = false): Promise<string[]> {
  let names: string[];
  try {
    const info = await stat(folder);
    if (!info.isDirectory())
      throw new ModelsFolderError(`models folder ${folder} is not a directory; ${MODEL_FOLDER_LAYOUT}`, folder);
    names = await readdir(folder);
  } catch (error) {
    if (error instanceof ModelsFolderError) throw error;
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelsFolderError(
      `models folder ${folder} ${missing ? 'does not exist' : `cannot be read (${messageOf(error)})`}; ${MODEL_FOLDER_LAYOUT}`,
      folder,
      { cause: error },
    );
  }
  const found: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    // stat (not the dirent) so symlinked model folders count too.
    const isModel = await stat(join(folder, name, CARD_FILE)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (isModel) found.push(name);
  }
  if (found.length === 0 && !allowEmpty) {
    throw new ModelsFolderError(
      `models folder ${folder} contains no model; ${MODEL_FOLDER_LAYOUT}. Train and export one first.`,
      folder,
    );
  }
  return found;
}

export interface ModelFolder {
  name: string;
  folder: string;
  cardPath: string;
  onnxPath: string;
  card: ModelCard;
}

/**
 * Reads and verifies `<modelsFolder>/<name>`: the card validates, names the folder and a file inside
 * it, and that file's SHA-256 matches the card. Throws {@link ModelLoadError} naming the bad file.
 */
export async function readModelFolder(modelsFolder: string, name: string): Promise<ModelFolder> {
  const folder = join(modelsFolder, name);
  const cardPath = join(folder, CARD_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(cardPath, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(`${cardPath}: cannot read the model card: ${messageOf(error)}`, cardPath, { cause: error });
  }
  let card: ModelCard;
  try {
    card = parseCard(json, cardPath);
  } catch (error) {
    throw new ModelLoadError(messageOf(error), cardPath, { cause: error });
  }
  // One name everywhere: URLs use the folder name, and a card that says otherwise would list a model
  // under a name that cannot be requested.
  if (card.name !== name) {
    throw new ModelLoadError(
      `${cardPath}: field "name" is ${JSON.stringify(card.name)} but the model folder is ${JSON.stringify(name)}; the folder name is the model's name, so rename the folder or set "name" to ${JSON.stringify(name)}`,
      cardPath,
    );
  }
  // The card names a file inside its own folder; anything else could point the server anywhere.
  if (basename(card.onnx.file) !== card.onnx.file || card.onnx.file === '..' || card.onnx.file === '.') {
    throw new ModelLoadError(
      `${cardPath}: field "onnx.file" is ${JSON.stringify(card.onnx.file)}; expected a file name inside the model folder, like "${ONNX_FILE}"`,
      cardPath,
    );
  }
  const onnxPath = join(folder, card.onnx.file);
  let actual: string;
  try {
    actual = await sha256File(onnxPath);
  } catch (error) {
    throw new ModelLoadError(`${onnxPath}: cannot read the ONNX file named by ${cardPath}: ${messageOf(error)}`, onnxPath, {
      cause: error,
    });
  }
  if (actual !== card.onnx.sha256) throw new HashMismatchError(onnxPath, card.onnx.sha256, actual, cardPath);
  return { name, folder, cardPath, onnxPath, card };
}

/**
 * Writes a model folder: `card` and the ONNX bytes it describes (as card.onnx.file). An existing model
 * folder is replaced whole, in one rename (see writeFolderAtomic), so its card and ONNX file stay a valid
 * pair until the new pair is in place; files of the old folder other than its card and ONNX files
 * (a train.json, notes) are kept. Temporaries that killed exports left beside it are removed first.
 */
export async function writeModelFolder(
  outDir: string,
  card: ModelCard,
  onnx: Uint8Array,
  options: { steps?: Partial<FolderSteps> } = {},
): Promise<void> {
  await removeStaleTemporaries(dirname(outDir));
  await writeFolderAtomic(
    outDir,
    async (write) => {
      await write(card.onnx.file, onnx);
      await write(CARD_FILE, `${JSON.stringify(card, null, 2)}\n`);
    },
    { keep: (name) => name !== CARD_FILE && !name.endsWith('.onnx'), ...(options.steps ? { steps: options.steps } : {}) },
  );
}
