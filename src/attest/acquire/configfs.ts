/**
 * Linux configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm-report, kernel ≥ 6.7):
 * `mkdir /sys/kernel/config/tsm/report/<name>`, read `provider`, write `inblob` (≤ 64 bytes of report
 * data; SNP: optional `privlevel`), read `generation`, read `outblob` (the evidence: SNP report, TDX
 * quote) and `auxblob` (SNP certificate table), read `generation` again — it must not have changed,
 * otherwise another writer raced us and the outblob may belong to their inblob — then `rmdir`.
 *
 * The filesystem is injectable (root directory and operations) so the protocol is unit-tested
 * against a fake kernel.
 */
import { mkdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { InputError, UnavailableError } from '../../errors.js';

/** The path of the report directory relative to the filesystem root. */
export const TSM_REPORT_DIR = 'sys/kernel/config/tsm/report';
const TSM_INBLOB_MAX_BYTES = 64;

/** The file operations configfs-tsm needs (node:fs/promises by default). */
export interface TsmFs {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  isDirectory(path: string): Promise<boolean>;
}

export const nodeTsmFs: TsmFs = {
  mkdir: async (p) => {
    await mkdir(p);
  },
  rmdir: (p) => rmdir(p),
  readFile: async (p) => new Uint8Array(await readFile(p)),
  writeFile: (p, d) => writeFile(p, d),
  isDirectory: async (p) => {
    try {
      return (await stat(p)).isDirectory();
    } catch {
      return false;
    }
  },
};

/** Known providers and the evidence kind each produces. */
export const TSM_PROVIDERS: Readonly<Record<string, 'sev-snp' | 'tdx'>> = { sev_guest: 'sev-snp', tdx_guest: 'tdx' };

export interface TsmReportOptions {
  /** Filesystem root (default '/'): tests point it at a fake tree. */
  root?: string;
  fs?: TsmFs;
  /** Report data (≤ 64 bytes; the kernel zero-pads). */
  inblob: Uint8Array;
  /** SEV-SNP VMPL to request (written to `privlevel`); ignored for other providers. */
  privlevel?: number;
  /** Attempts when the generation changes under us (default 3). */
  attempts?: number;
  /** Instance name (default modelseal-<pid>-<random>). */
  name?: string;
}

export interface TsmReport {
  provider: string;
  kind: 'sev-snp' | 'tdx' | undefined;
  outblob: Uint8Array;
  /** Absent when the provider has none (TDX) or it is empty. */
  auxblob?: Uint8Array;
  generation: number;
  /** The instance directory that was used (and removed). */
  path: string;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8').trim();

/** True when this system (under `root`) exposes configfs-tsm reports. */
export async function tsmAvailable(o: { root?: string; fs?: TsmFs } = {}): Promise<boolean> {
  return (o.fs ?? nodeTsmFs).isDirectory(join(o.root ?? '/', TSM_REPORT_DIR));
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? (e as { code?: string }).code : undefined;
}

/**
 * Takes one report through configfs-tsm. Throws UnavailableError TSM_UNAVAILABLE (naming the path
 * probed) when the interface is absent, TSM_RACE when the generation kept changing, and InputError
 * for bad arguments. The instance directory is always removed.
 */
export async function tsmReport(o: TsmReportOptions): Promise<TsmReport> {
  const fs = o.fs ?? nodeTsmFs;
  const dir = join(o.root ?? '/', TSM_REPORT_DIR);
  if (!(o.inblob instanceof Uint8Array)) throw new TypeError('inblob must be a Uint8Array');
  if (o.inblob.length > TSM_INBLOB_MAX_BYTES) throw new RangeError(`inblob must be at most ${TSM_INBLOB_MAX_BYTES} bytes, got ${o.inblob.length}`);
  if (!(await fs.isDirectory(dir))) {
    throw new UnavailableError('TSM_UNAVAILABLE', `configfs-tsm is not available: ${dir} does not exist (needs Linux ≥ 6.7 in an SEV-SNP or TDX guest, with configfs mounted at /sys/kernel/config).`);
  }
  const attempts = o.attempts ?? 3;
  let lastRace = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    const path = join(dir, o.name ?? `modelseal-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await fs.mkdir(path);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'EACCES' || code === 'EPERM') throw new UnavailableError('TSM_PERMISSION', `Cannot create ${path} (${code}): configfs-tsm reports need root or CAP_SYS_ADMIN.`, { cause: e });
      throw new UnavailableError('TSM_UNAVAILABLE', `Cannot create the report instance ${path}: ${(e as Error).message}.`, { cause: e });
    }
    try {
      const provider = text(await fs.readFile(join(path, 'provider')));
      const kind = TSM_PROVIDERS[provider];
      if (o.privlevel !== undefined && provider === 'sev_guest') {
        if (!Number.isInteger(o.privlevel) || o.privlevel < 0 || o.privlevel > 3) throw new RangeError(`privlevel must be 0..3, got ${o.privlevel}`);
        await fs.writeFile(join(path, 'privlevel'), `${o.privlevel}\n`);
      }
      await fs.writeFile(join(path, 'inblob'), o.inblob);
      const before = Number(text(await fs.readFile(join(path, 'generation'))));
      const outblob = await fs.readFile(join(path, 'outblob'));
      let auxblob: Uint8Array | undefined;
      try {
        auxblob = await fs.readFile(join(path, 'auxblob'));
      } catch (e) {
        // TDX has no auxblob (ENOENT, or EOPNOTSUPP on some kernels): nothing to add.
        if (!['ENOENT', 'EOPNOTSUPP', 'ENOTSUP', 'ENODATA'].includes(errnoOf(e) ?? '')) throw e;
      }
      const after = Number(text(await fs.readFile(join(path, 'generation'))));
      if (!Number.isInteger(before) || before !== after) {
        lastRace = `generation ${before} → ${after}`;
        continue;
      }
      if (outblob.length === 0) throw new InputError('TSM_EMPTY', `${path}/outblob is empty: the ${provider} provider produced no evidence.`);
      const out: TsmReport = { provider, kind, outblob, generation: after, path };
      if (auxblob && auxblob.length > 0) out.auxblob = auxblob;
      return out;
    } finally {
      await fs.rmdir(path).catch(() => undefined);
    }
  }
  throw new UnavailableError('TSM_RACE', `The configfs-tsm report generation changed while reading (${lastRace}) in ${attempts} attempts: another process is writing to the same report instance. Retry.`);
}
