// NumPy .npy (format version 1.0) for float32 arrays, so samples and latents can be inspected with
// `numpy.load` without any Python-side conversion. Only little-endian float32 in C order is written
// or read: that is what generators produce, and keeping one dtype keeps the reader trivial.

import { writeFile } from 'node:fs/promises';
import { GantryError } from '@gantry/core';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"
/** numpy aligns the data start to 64 bytes so memory-mapped arrays are aligned for any dtype. */
const HEADER_ALIGNMENT = 64;
const PREAMBLE_BYTES = MAGIC.length + 2 + 2; // magic, version (2 bytes), header length (uint16 LE)

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A file that is not a .npy array Gantry reads (version 1.0/2.0, little-endian float32/uint8/int32...). */
export class NpyFormatError extends GantryError {
  override name = 'NpyFormatError';
  constructor(message: string) {
    super('npy-format', message);
  }
}

function validateShape(shape: readonly number[], length: number): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const count = shape.reduce((product, d) => product * d, 1);
  if (count !== length) {
    throw new RangeError(`shape [${shape.join(', ')}] holds ${count} values but data has ${length}`);
  }
}

/** The Python literal numpy writes for a shape tuple: "()", "(5,)", "(2, 3)". */
function pythonTuple(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** Encodes `data` with `shape` as a complete .npy v1.0 file ('<f4', C order). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Buffer {
  if (!(data instanceof Float32Array)) throw new TypeError(`data must be a Float32Array, got ${typeof data}`);
  validateShape(shape, data.length);
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${pythonTuple(shape)}, }`;
  // Pad with spaces and end with a newline so that the data starts on a 64-byte boundary.
  const unpadded = PREAMBLE_BYTES + dict.length + 1;
  const padding = (HEADER_ALIGNMENT - (unpadded % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT;
  const header = `${dict}${' '.repeat(padding)}\n`;
  if (header.length > 0xffff) throw new RangeError(`shape has too many dimensions for an .npy v1.0 header (${shape.length})`);

  const file = Buffer.alloc(PREAMBLE_BYTES + header.length + data.byteLength);
  MAGIC.copy(file, 0);
  file[6] = 1; // major version
  file[7] = 0; // minor version
  file.writeUInt16LE(header.length, 8);
  file.write(header, PREAMBLE_BYTES, 'latin1');
  const offset = PREAMBLE_BYTES + header.length;
  if (hostIsLittleEndian) {
    file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  } else {
    for (let i = 0; i < data.length; i++) file.writeFloatLE(data[i]!, offset + i * 4);
  }
  return file;
}

/** Writes `data` with `shape` to `path` as a .npy v1.0 file. */
export async function writeNpy(path: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  await writeFile(path, encodeNpy(data, shape));
}

/** Reads a '<f4' C-order .npy file (versions 1.0 and 2.0), e.g. one written by {@link encodeNpy}. */
export function decodeNpy(file: Uint8Array): { data: Float32Array; shape: number[] } {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < PREAMBLE_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new NpyFormatError('not an .npy file: the magic string "\\x93NUMPY" is missing');
  }
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : major === 2 ? bytes.readUInt32LE(8) : -1;
  if (headerLength < 0) throw new NpyFormatError(`unsupported .npy version ${major}.${bytes[7]}; expected 1.0 or 2.0`);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== '<f4' || fortran !== 'False' || shapeText === undefined) {
    throw new NpyFormatError(`unsupported .npy header ${JSON.stringify(header.trim())}; only '<f4' in C order is supported`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((product, d) => product * d, 1);
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== count * 4) {
    throw new NpyFormatError(`.npy data is ${bytes.length - dataStart} bytes but shape (${shape.join(', ')}) needs ${count * 4}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(dataStart + i * 4);
  return { data, shape };
}
