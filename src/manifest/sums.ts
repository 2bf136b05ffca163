/**
 * The plain (unsigned) manifest file of `modelseal hash --output FILE` / `hash --check FILE`: one
 * header line with the serialization, then one `DIGEST  NAME` line per resource, as `sha256sum` and
 * `b3sum` write them (with the files method and SHA-256, `sha256sum -c` run inside the model directory
 * accepts the resource lines and warns about the header). Names that hold a newline, a carriage return
 * or a backslash are escaped the GNU way (a leading backslash, then `\\`, `\n`, `\r`).
 *
 * It is an integrity check against accidents (a truncated download, a changed file), not against an
 * attacker, who can rewrite the file too: that is what signing is for.
 */
import { HASH_ALGORITHMS, type HashAlgorithm } from '../hash/vocabulary.js';
import { InputError } from '../errors.js';
import { resourceAlgorithm, rootDigestOf } from './oms.js';
import type { Manifest, Resource, Serialization } from './types.js';

/** The first word of the header line; the format version follows it. */
export const SUMS_MAGIC = '# modelseal-sums';
const SUMS_VERSION = 1;

/** A parsed manifest file: what to hash and what to expect. */
export interface SumsFile {
  serialization: Serialization;
  /** The model's path as written, relative to the manifest file's directory (or absolute). */
  modelPath: string;
  rootDigest: string;
  resources: Resource[];
}

function escapeName(name: string): { escaped: boolean; text: string } {
  if (!/[\\\n\r]/.test(name)) return { escaped: false, text: name };
  return { escaped: true, text: name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r') };
}

function unescapeName(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    throw bad(line, `unknown escape "\\${c}" in a name`);
  });
}

function bad(line: number, what: string): InputError {
  return new InputError('SUMS_INVALID', `the manifest file is not valid at line ${line}: ${what}; write it again with \`modelseal hash MODEL --output FILE\`.`);
}

/**
 * The text of a manifest file for `manifest`. `modelPath` is recorded so that `hash --check FILE`
 * finds the model without being told (pass it relative to the directory the file is written to).
 */
export function formatSumsFile(manifest: Manifest, modelPath: string): string {
  const s = manifest.serialization;
  const fields: Array<[string, string]> = [
    ['method', s.method],
    ['hash', s.hashType],
    ...(s.shardSize !== undefined ? ([['shard-size', String(s.shardSize)]] as Array<[string, string]>) : []),
    ['allow-symlinks', s.allowSymlinks ? '1' : '0'],
    ['ignore', s.ignorePaths.map(encodeURIComponent).join(',')],
    ['model', encodeURIComponent(modelPath)],
    ['root', manifest.rootDigest],
  ];
  const lines = [`${SUMS_MAGIC} ${SUMS_VERSION} ${fields.map(([k, v]) => `${k}=${v}`).join(' ')}`];
  for (const r of manifest.resources) {
    const { escaped, text } = escapeName(r.name);
    lines.push(`${escaped ? '\\' : ''}${r.digest}  ${text}`);
  }
  return lines.join('\n') + '\n';
}

function decode(value: string, line: number, key: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw bad(line, `the ${key} field is not percent-encoded text`);
  }
}

/** Parses (and validates) a manifest file's text. Throws InputError SUMS_INVALID with the line. */
export function parseSumsFile(text: string): SumsFile {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = lines[0] ?? '';
  if (!header.startsWith(`${SUMS_MAGIC} `)) {
    throw new InputError('SUMS_INVALID', `this is not a modelseal manifest file (its first line must start with "${SUMS_MAGIC}"); write one with \`modelseal hash MODEL --output FILE\`.`);
  }
  const words = header.slice(SUMS_MAGIC.length + 1).split(' ');
  if (words[0] !== String(SUMS_VERSION)) throw bad(1, `unsupported version "${words[0] ?? ''}" (this modelseal reads version ${SUMS_VERSION})`);
  const f = new Map<string, string>();
  for (const w of words.slice(1)) {
    const eq = w.indexOf('=');
    if (eq <= 0 || f.has(w.slice(0, eq))) throw bad(1, `malformed or repeated header field "${w}"`);
    f.set(w.slice(0, eq), w.slice(eq + 1));
  }
  const method = f.get('method');
  if (method !== 'files' && method !== 'shards') throw bad(1, 'method must be files or shards');
  const hash = f.get('hash') as HashAlgorithm | undefined;
  if (hash === undefined || !HASH_ALGORITHMS.includes(hash)) throw bad(1, `hash must be one of ${HASH_ALGORITHMS.join(', ')}`);
  let shardSize: number | undefined;
  if (method === 'shards') {
    shardSize = Number(f.get('shard-size'));
    if (!/^[1-9]\d*$/.test(f.get('shard-size') ?? '') || !Number.isSafeInteger(shardSize)) throw bad(1, 'shard-size must be a positive whole number');
  } else if (f.has('shard-size')) throw bad(1, 'shard-size only applies to the shards method');
  const sym = f.get('allow-symlinks');
  if (sym !== '0' && sym !== '1') throw bad(1, 'allow-symlinks must be 0 or 1');
  const ignoreText = f.get('ignore');
  if (ignoreText === undefined) throw bad(1, 'the ignore field is missing');
  const ignorePaths = ignoreText === '' ? [] : ignoreText.split(',').map((p) => decode(p, 1, 'ignore'));
  const modelText = f.get('model');
  if (!modelText) throw bad(1, 'the model field is missing');
  const root = f.get('root') ?? '';
  if (!/^[0-9a-f]{64}$/.test(root)) throw bad(1, 'root must be 64 lowercase hex digits');

  const digestHex = hash === 'blake2b' ? 128 : 64;
  const algorithm = resourceAlgorithm(hash, shardSize);
  const seen = new Set<string>();
  const resources: Resource[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!;
    const escaped = raw.startsWith('\\');
    const body = escaped ? raw.slice(1) : raw;
    const m = /^([0-9a-f]+) {2}(.+)$/s.exec(body);
    if (!m || m[1]!.length !== digestHex) throw bad(i + 1, `expected "DIGEST  NAME" with a ${digestHex}-digit lowercase hex digest`);
    const name = escaped ? unescapeName(m[2]!, i + 1) : m[2]!;
    if (seen.has(name)) throw bad(i + 1, `"${name}" is listed twice`);
    seen.add(name);
    resources.push({ name, algorithm, digest: m[1]! });
  }
  if (rootDigestOf(resources) !== root) {
    throw new InputError('SUMS_INVALID', 'the manifest file is not consistent: its root digest does not match its lines (edited or truncated); write it again with `modelseal hash MODEL --output FILE`.');
  }
  return {
    serialization: { method, hashType: hash, ...(shardSize !== undefined ? { shardSize } : {}), allowSymlinks: sym === '1', ignorePaths },
    modelPath: decode(modelText, 1, 'model'),
    rootDigest: root,
    resources,
  };
}
