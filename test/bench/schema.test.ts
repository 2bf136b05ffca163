import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_JSON_SCHEMA, validateBenchReport } from '../../src/bench/schema.js';
import { ModelsealError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers.js';

const fixture = () => JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'bench-quick.json'), 'utf8')) as Record<string, unknown>;

describe('bench.json schema', () => {
  it('docs/bench.schema.json is the schema the code validates with', () => {
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'bench.schema.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(BENCH_JSON_SCHEMA)));
  });

  it('a report written by a real quick run validates', () => {
    expect(validateBenchReport(fixture()).schema).toBe('modelseal-bench/v1');
  });

  it.each([
    ['wrong schema id', (r: Record<string, unknown>) => (r.schema = 'other/v9')],
    ['missing runs', (r: Record<string, unknown>) => delete r.runs],
    ['a run with a string rate', (r: Record<string, unknown>) => ((r.runs as Array<Record<string, unknown>>)[0]!.bytesPerSecond = '3 GB/s')],
    ['an unknown backend', (r: Record<string, unknown>) => ((r.runs as Array<Record<string, unknown>>)[0]!.backend = 'quantum')],
    ['not an object', () => 'x'],
  ])('rejects %s with BENCH_REPORT_INVALID', (_name, mutate) => {
    const r = fixture();
    const v = mutate(r) === 'x' ? 'x' : r;
    try {
      validateBenchReport(v, 'fixture');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelsealError);
      expect((e as ModelsealError).code).toBe('BENCH_REPORT_INVALID');
      expect((e as Error).message).toContain('fixture');
    }
  });
});
