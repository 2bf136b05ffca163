/**
 * DESIGN §8 on every run: no import cycle between files or folders, imports point down the layers,
 * the CLI imports only src/index.ts and src/errors.ts (scripts/check-layers.mjs). The check itself is
 * tested on synthetic graphs and on a small source tree, so a new violation cannot pass unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as layers from '../../scripts/check-layers.mjs';
import { tempDir } from '../helpers.js';

type Graph = Map<string, Set<string>>;
const { buildGraph, checkGraph, checkRepository, importSpecifiers, ALLOWED_EDGES } = layers as {
  buildGraph(root: string): { graph: Graph; unresolved: string[] };
  checkGraph(graph: Graph, o?: { allowed?: string[][] }): string[];
  checkRepository(): string[];
  importSpecifiers(fileName: string, text: string): string[];
  ALLOWED_EDGES: string[][];
};

const graphOf = (edges: Record<string, string[]>): Graph => {
  const g: Graph = new Map();
  for (const [from, to] of Object.entries(edges)) {
    g.set(from, new Set(to));
    for (const t of to) if (!g.has(t)) g.set(t, new Set());
  }
  return g;
};

/** A clean graph in the shape of src/: every layer, downward edges only. */
const CLEAN = {
  'src/cli/main.ts': ['src/cli/exit-code.ts', 'src/cli/commands/hash.ts', 'src/index.ts', 'src/errors.ts'],
  'src/cli/commands/hash.ts': ['src/cli/exit-code.ts', 'src/index.ts'],
  'src/index.ts': ['src/verify/index.ts', 'src/engine/hash-model.ts'],
  'src/verify/index.ts': ['src/sign/index.ts', 'src/engine/hash-model.ts'],
  'src/sign/index.ts': ['src/attest/index.ts', 'src/engine/hash-model.ts'],
  'src/attest/index.ts': ['src/attest/snp/report.ts', 'src/native/addon.ts'],
  'src/attest/snp/report.ts': ['src/attest/encoding.ts'],
  'src/engine/hash-model.ts': ['src/plan/plan.ts', 'src/backends/dispatch.ts', 'src/manifest/oms.ts'],
  'src/plan/plan.ts': ['src/hash/vocabulary.ts', 'src/manifest/oms.ts'],
  'src/backends/dispatch.ts': ['src/backends/types.ts', 'src/backends/webgpu/index.ts'],
  'src/backends/webgpu/index.ts': ['src/backends/types.ts'],
  'src/backends/types.ts': ['src/hash/vocabulary.ts'],
  'src/manifest/oms.ts': ['src/hash/vocabulary.ts'],
  'src/hash/vocabulary.ts': ['src/errors.ts'],
};

const withExtra = (from: string, to: string) => graphOf({ ...CLEAN, [from]: [...((CLEAN as Record<string, string[]>)[from] ?? []), to] });

describe('the layering check', () => {
  it('passes this repository (allow-listed edges aside)', () => {
    expect(checkRepository()).toEqual([]);
  });

  it('passes a clean graph, parent/child folder imports included', () => {
    expect(checkGraph(graphOf(CLEAN), { allowed: [] })).toEqual([]);
  });

  it('fails an upward import', () => {
    const v = checkGraph(withExtra('src/manifest/oms.ts', 'src/engine/hash-model.ts'), { allowed: [] });
    expect(v.some((s) => s.startsWith('src/manifest/oms.ts (layer 2) imports src/engine/hash-model.ts (layer 3)'))).toBe(true);
    // the vocabulary sits below plan/, manifest/ and backends/
    expect(checkGraph(withExtra('src/hash/vocabulary.ts', 'src/backends/types.ts'), { allowed: [] }).join('\n')).toMatch(/layer 1\) imports src\/backends\/types.ts \(layer 2\)/);
    // plan/, manifest/ and backends/ share a layer but not their vocabulary: that is src/hash/
    expect(checkGraph(withExtra('src/plan/plan.ts', 'src/backends/types.ts'), { allowed: [] }).join('\n')).toMatch(/plan\/ and backends\/ share a layer and never import each other/);
    expect(checkGraph(withExtra('src/manifest/oms.ts', 'src/backends/types.ts'), { allowed: [] })).toHaveLength(1);
    expect(checkGraph(withExtra('src/backends/dispatch.ts', 'src/manifest/oms.ts'), { allowed: [] })).toHaveLength(1);
    // sign is below verify (DESIGN: verify -> sign)
    expect(checkGraph(withExtra('src/sign/index.ts', 'src/verify/index.ts'), { allowed: [] }).join('\n')).toMatch(/src\/sign\/index.ts \(layer 4\) imports src\/verify\/index.ts \(layer 5\)/);
  });

  it('fails a CLI import that bypasses src/index.ts', () => {
    const v = checkGraph(withExtra('src/cli/commands/hash.ts', 'src/engine/hash-model.ts'), { allowed: [] });
    expect(v).toEqual([expect.stringMatching(/^src\/cli\/commands\/hash.ts imports src\/engine\/hash-model.ts: the CLI imports only/)]);
  });

  it('fails a file cycle, and a folder cycle made of files that form no file cycle', () => {
    const files = checkGraph(withExtra('src/cli/exit-code.ts', 'src/cli/main.ts'), { allowed: [] });
    // the shape of the old CLI cycle: main loads the commands, a command imports main for its exit code
    expect(files).toEqual([expect.stringMatching(/^import cycle between files src\/cli\/commands\/hash.ts, src\/cli\/exit-code.ts, src\/cli\/main.ts: e.g. /)]);
    // plan/plan.ts -> manifest/oms.ts and manifest/types.ts -> plan/walk.ts: no file cycle, a folder cycle
    const g = withExtra('src/manifest/types.ts', 'src/plan/walk.ts');
    const v = checkGraph(g, { allowed: [] });
    expect(v).toEqual([expect.stringMatching(/^import cycle between folders src\/manifest, src\/plan: e.g. .*src\/manifest\/types.ts -> src\/plan\/walk.ts/)]);
    // the allow-list takes an exact edge out of the graph, and only that edge
    expect(checkGraph(g, { allowed: [['src/manifest/types.ts', 'src/plan/walk.ts']] })).toEqual([]);
    expect(checkGraph(g, { allowed: [['src/manifest/types.ts', 'src/plan/plan.ts']] }).join('\n')).toMatch(/import cycle between folders/);
  });

  it('fails a stale allow-list entry and a file in no layer', () => {
    expect(checkGraph(graphOf(CLEAN), { allowed: [['src/a.ts', 'src/b.ts']] })).toEqual([expect.stringMatching(/allow-list entry src\/a.ts -> src\/b.ts matches no import any more/)]);
    expect(checkGraph(graphOf(CLEAN), { allowed: [['src/plan/plan.ts', 'src/manifest/oms.ts']] })).toEqual([expect.stringMatching(/breaks no rule any more/)]);
    expect(checkGraph(withExtra('src/index.ts', 'src/newfolder/x.ts'), { allowed: [] })).toEqual([expect.stringMatching(/^src\/newfolder\/x.ts is in no layer/)]);
  });

  it('every allow-listed edge is in this repository and still needed (no entry kept out of habit)', () => {
    // i10-attest emptied the list (attestation joined the library); any entry added later must still be real.
    const { graph } = buildGraph(join(dirname(new URL(import.meta.url).pathname), '..', '..'));
    for (const [from, to] of ALLOWED_EDGES) expect(graph.get(from)?.has(to), `${from} -> ${to}`).toBe(true);
  });

  it('reads imports the way the compiler resolves them, lazy imports included', () => {
    const specs = importSpecifiers(
      'x.ts',
      [
        "import { a } from './a.js';",
        "import type { B } from '../b.js';",
        "export { c } from './c.js';",
        "export * from './d.js';",
        "type E = import('./e.js').E;",
        "const LAZY = './f.js';",
        'async function g() { const spec = "./g.js"; await import(spec); await import(LAZY); await import(\'./h.js\'); }',
        "import 'node:fs';",
      ].join('\n'),
    );
    expect(specs.sort()).toEqual(['../b.js', './a.js', './c.js', './d.js', './e.js', './f.js', './g.js', './h.js', 'node:fs'].sort());
  });

  it('builds the graph of a source tree from disk and finds what was planted there', () => {
    const d = tempDir();
    try {
      const put = (rel: string, text: string) => {
        mkdirSync(dirname(join(d.path, rel)), { recursive: true });
        writeFileSync(join(d.path, rel), text);
      };
      put('src/errors.ts', 'export const E = 1;\n');
      put('src/index.ts', "export { hashModel } from './engine/hash-model.js';\n");
      put('src/engine/hash-model.ts', "import { E } from '../errors.js';\nexport const hashModel = E;\n");
      put('src/cli/main.ts', "const M = '../engine/hash-model.js';\nexport const main = () => import(M);\n");
      put('src/plan/plan.ts', "import { hashModel } from '../engine/hash-model.js';\nexport const p = hashModel;\n");
      const { graph, unresolved } = buildGraph(d.path);
      expect(unresolved).toEqual([]);
      expect([...graph.get('src/index.ts')!]).toEqual(['src/engine/hash-model.ts']);
      const v = checkGraph(graph, { allowed: [] });
      expect(v).toHaveLength(2);
      expect(v.join('\n')).toMatch(/src\/cli\/main.ts imports src\/engine\/hash-model.ts: the CLI imports only/);
      expect(v.join('\n')).toMatch(/src\/plan\/plan.ts \(layer 2\) imports src\/engine\/hash-model.ts \(layer 3\)/);
    } finally {
      d.cleanup();
    }
  });
});
