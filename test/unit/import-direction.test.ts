/**
 * The folder list under src/ shows the data flow, outside in, and imports go one way along it: the CLI and the
 * server on top, the tools beneath them, what the tools stand on beneath those, and the plumbing at the bottom.
 * An import against the flow (a provider reaching into the toolkit, a simple tool into a workflow tool) ties a
 * lower layer to a caller, and the layer can no longer be read, tested or changed on its own. The imports are
 * read from the source with a regex (`from '…'`, `import('…')`, `import '…'`): only relative paths cross folders.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Tiers, outermost first: a folder may import any folder in a later tier. */
const TIERS: readonly (readonly string[])[] = [
  ['cli'],
  ['server'],
  ['tools', 'workflow'],
  ['toolkit'],
  ['providers', 'memory', 'files', 'jobs'],
  ['resilience', 'cluster'],
  ['http', 'redis'],
];

/** Imports between folders of one tier: each named pair, one way only. */
const SAME_TIER: ReadonlySet<string> = new Set([
  'jobs -> memory',
  'jobs -> providers',
  'cluster -> resilience',
]);

/** Usable from anywhere; they import only one another. */
const BASE: ReadonlySet<string> = new Set(['config', 'observability', 'errors', 'format', 'tokens']);

/** Folders only some others may use: the Redis link is for the stores and cluster state built on it. */
const ONLY_FROM: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['redis', new Set(['memory', 'cluster'])],
]);

const TIER_OF = new Map(TIERS.flatMap((folders, tier) => folders.map(folder => [folder, tier] as const)));

interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;

/** The top-level folder of a path under src/ (a file at the top, errors.ts, is its own "folder": errors). */
function folderOf(path: string): string {
  const first = relative(SRC, path).split(sep)[0] ?? '';
  return first.replace(/\.(ts|js)$/, '');
}

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter(name => name.endsWith('.ts'))
    .map(name => join(SRC, name));
}

function crossFolderImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles()) {
    const from = folderOf(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[2] ?? '';
      const to = folderOf(resolve(dirname(file), specifier));
      if (to !== from) edges.push({ from, to, file: relative(SRC, file), specifier });
    }
  }
  return edges;
}

/** Why an edge goes against the flow, or undefined when it is allowed. */
function violation(edge: Edge): string | undefined {
  const { from, to } = edge;
  const allowedFrom = ONLY_FROM.get(to);
  if (allowedFrom !== undefined && !allowedFrom.has(from))
    return `${to}/ is only for ${[...allowedFrom].join(', ')}`;
  if (BASE.has(to)) return undefined;
  if (BASE.has(from))
    return `${from} is usable from anywhere, so it must import only ${[...BASE].join(', ')}`;
  const fromTier = TIER_OF.get(from);
  const toTier = TIER_OF.get(to);
  if (fromTier === undefined || toTier === undefined) return 'a folder this test does not place in a tier';
  if (toTier > fromTier) return undefined;
  if (toTier === fromTier && SAME_TIER.has(`${from} -> ${to}`)) return undefined;
  return toTier === fromTier ? `${from} and ${to} are siblings` : `${to} is above ${from}`;
}

/** Folder cycles, each as the folders on it; found by depth-first search over the folder graph. */
function folderCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) next.set(from, (next.get(from) ?? new Set()).add(to));
  const cycles: string[][] = [];
  const done = new Set<string>();
  const visit = (folder: string, path: string[]): void => {
    const at = path.indexOf(folder);
    if (at >= 0) {
      cycles.push([...path.slice(at), folder]);
      return;
    }
    if (done.has(folder)) return;
    for (const to of next.get(folder) ?? []) visit(to, [...path, folder]);
    done.add(folder);
  };
  for (const folder of next.keys()) visit(folder, []);
  return cycles;
}

describe('import direction between the folders of src/', () => {
  const edges = crossFolderImports();

  it('reads the imports it judges', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual(expect.objectContaining({ from: 'workflow', to: 'toolkit' }));
  });

  it('places every folder: a tier, or usable from anywhere', () => {
    const folders = new Set(sourceFiles().map(folderOf));
    const unplaced = [...folders].filter(folder => !TIER_OF.has(folder) && !BASE.has(folder));
    expect(unplaced).toEqual([]);
  });

  it('has no import against the flow (cli → server → tools, workflow → toolkit → … → http, redis)', () => {
    const wrong = edges.flatMap(edge => {
      const why = violation(edge);
      return why === undefined ? [] : [`${edge.file} imports '${edge.specifier}': ${why}`];
    });
    expect(wrong).toEqual([]);
  });

  it('has no cycle between folders', () => {
    expect(folderCycles(edges)).toEqual([]);
  });

  it('judges an upward import, a sibling import and a cycle as such', () => {
    const edge = (from: string, to: string): Edge => ({
      from,
      to,
      file: `${from}/x.ts`,
      specifier: `../${to}/y.js`,
    });
    expect(violation(edge('providers', 'toolkit'))).toBe('toolkit is above providers');
    expect(violation(edge('tools', 'workflow'))).toBe('tools and workflow are siblings');
    expect(violation(edge('server', 'redis'))).toBe('redis/ is only for memory, cluster');
    expect(violation(edge('errors', 'providers'))).toMatch(/usable from anywhere/);
    expect(violation(edge('toolkit', 'providers'))).toBeUndefined();
    expect(folderCycles([edge('files', 'memory'), edge('memory', 'files')])).toEqual([
      ['files', 'memory', 'files'],
    ]);
  });
});
