/**
 * Values are parsed once where they enter: the CLI's flag parsers (src/cli/args.ts) and the library's
 * option checks (hashModel, makePlan) share one rule per value, under one code.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHex, parseSize, parseTime } from '../../src/cli/args.js';
import { hashModel } from '../../src/engine/hash-model.js';
import { checkShardBytes } from '../../src/hash/vocabulary.js';
import { makePlan } from '../../src/plan/plan.js';
import { tempDir } from '../helpers.js';

describe('CLI flag parsers', () => {
  it('parseHex: prefix, spaces, exact and ranged lengths', () => {
    expect(Buffer.from(parseHex(' 0xAB01 ', '--x', 2)).toString('hex')).toBe('ab01');
    expect(parseHex('00'.repeat(8), '--nonce', 8, 64)).toHaveLength(8);
    expect(parseHex('ff'.repeat(100), '--root', 1, Infinity)).toHaveLength(100);
    expect(() => parseHex('abc', '--nonce', 32)).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(/^--nonce must be hex/) }));
    expect(() => parseHex('zz', '--nonce', 1)).toThrow(/must be hex/);
    expect(() => parseHex('ab cd', '--nonce', 2)).toThrow(/must be hex/);
    expect(() => parseHex('ab', '--nonce', 32)).toThrow(/--nonce must be 32 bytes \(64 hex digits\), got 1/);
    expect(() => parseHex('ab'.repeat(65), '--report-data', 1, 64)).toThrow(/1 to 64 bytes/);
    expect(() => parseHex('', '--root', 1, Infinity)).toThrow(/at least 1 byte/);
  });

  it('parseTime: ISO 8601 or Unix seconds, one message for every flag', () => {
    expect(parseTime('2025-06-01', '--at').toISOString()).toBe('2025-06-01T00:00:00.000Z');
    expect(parseTime('2025-06-01T12:00:00Z', '--at').toISOString()).toBe('2025-06-01T12:00:00.000Z');
    expect(parseTime('1748736000', '--attest-at').getTime()).toBe(1748736000_000);
    for (const name of ['--at', '--collateral-at', '--attest-at']) {
      expect(() => parseTime('yesterday-ish', name)).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(new RegExp(`^${name} must be an ISO 8601 time`)) }));
    }
  });

  it('parseSize: units, and only positive whole bytes', () => {
    expect(parseSize('16MiB', '--shard-size')).toBe(16 * 2 ** 20);
    expect(parseSize('1GB', '--shard-size')).toBe(1e9);
    for (const bad of ['0', '-1', '1.5', '12 parsecs']) expect(() => parseSize(bad, '--shard-size')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('library shard size: one check, one code', () => {
  it('checkShardBytes accepts positive safe integers only', () => {
    expect(checkShardBytes(8)).toBe(8);
    for (const bad of [0, -8, 1.5, Number.NaN, 2 ** 53, '8', undefined]) expect(() => checkShardBytes(bad)).toThrow(expect.objectContaining({ code: 'BAD_SHARD_SIZE' }));
  });

  it('hashModel and makePlan refuse a bad shard size under one code', async () => {
    const d = tempDir();
    try {
      writeFileSync(join(d.path, 'a.bin'), 'abc');
      await expect(hashModel(d.path, { method: 'shards', shardSize: 0, workers: 1 })).rejects.toMatchObject({ code: 'BAD_SHARD_SIZE' });
      // The check runs where the plan is made, after the walk (as before): a walk error comes first.
      await expect(hashModel(join(d.path, 'missing'), { method: 'shards', shardSize: -1, workers: 1 })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
      await expect(hashModel(d.path, { hash: 'blake3', method: 'shards', shardSize: 8, workers: 1 })).rejects.toMatchObject({ code: 'BLAKE3_NOT_SHARDED' });
      expect(() => makePlan([], { hash: 'sha256', method: 'shards', shardSize: 1.5 })).toThrow(expect.objectContaining({ code: 'BAD_SHARD_SIZE' }));
    } finally {
      d.cleanup();
    }
  });
});
