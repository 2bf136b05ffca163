/** Tensor-file formats: detection by leading bytes, one parser module per format. */
import { readGgufIndex } from './gguf.js';
import { readSafetensorsIndex } from './safetensors.js';
import type { ByteSource, TensorIndex } from './types.js';

export { readGgufIndex } from './gguf.js';
export { parseSafetensorsHeader, readSafetensorsIndex } from './safetensors.js';
export type { ByteSource, TensorIndex, TensorRange } from './types.js';

/** Which parser a file's first bytes call for (`undefined`: not a tensor file we read). */
export function detectTensorFormat(first8: Uint8Array, fileSize: number, name: string): TensorIndex['format'] | undefined {
  if (first8.length >= 4 && first8[0] === 0x47 && first8[1] === 0x47 && first8[2] === 0x55 && first8[3] === 0x46) return 'gguf';
  // safetensors has no magic: trust the extension, then the strict parser decides.
  if (name.endsWith('.safetensors') && fileSize >= 8) return 'safetensors';
  return undefined;
}

/** Parses the tensor index of a file through `read` (verified bytes only). */
export function readTensorIndex(format: TensorIndex['format'], read: ByteSource, fileSize: number, what: string): Promise<TensorIndex> {
  return format === 'gguf' ? readGgufIndex(read, fileSize, what) : readSafetensorsIndex(read, fileSize, what);
}
