/**
 * Shader loading: the WGSL kernels live in shaders/, one kernel per file, and are read at run time.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// the same relative path from src/backends/webgpu and dist/backends/webgpu
const SHADER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shaders');

/** The kernels in shaders/. */
export type ShaderName = 'sha256_leaves' | 'sha256_leaves_multi' | 'blake3_chunks' | 'blake3_parents';

/** Reads one kernel's WGSL from shaders/ (the same path from src/ and dist/). */
export function loadShader(name: ShaderName): string {
  return readFileSync(resolve(SHADER_DIR, `${name}.wgsl`), 'utf8');
}

