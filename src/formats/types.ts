/**
 * What a tensor-file header parser returns: tensor names mapped to absolute byte ranges of the file.
 * Parsers in this folder treat their input as hostile (size caps, overflow checks) and never read a
 * file themselves: the caller hands them bytes it has already verified.
 */

/** One tensor's place in its file: bytes [start, end). */
export interface TensorRange {
  name: string;
  /** Format-specific element type (`F16`, `BF16`, `Q4_K`, …). */
  dtype: string;
  shape: number[];
  start: number;
  end: number;
}

/** A parsed tensor-file header. */
export interface TensorIndex {
  format: 'safetensors' | 'gguf';
  /** Bytes [0, headerBytes) are the header (everything before the first tensor's data region). */
  headerBytes: number;
  tensors: TensorRange[];
}

/** Reads `length` bytes at `offset` of the file being parsed (already verified by the caller). */
export type ByteSource = (offset: number, length: number) => Promise<Uint8Array>;
