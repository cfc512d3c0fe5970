import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { preProcessFile } from 'typescript';

/**
 * The folders of backend/ depend on each other without cycles: a cycle is a sign that something lives in the
 * wrong room (CONVENTIONS.md). A folder is the first path segment under backend/ (`sources/gps` is `sources`);
 * the files directly in backend/ (main.ts, app.module.ts, bootstrap.ts) are the composition root, `(root)`.
 *
 * Every .ts file counts, specs included (a spec that needs another folder's code ties the folders as much as
 * the code does), and every kind of import: `import`, `import type` (a type-only import still says one folder
 * knows another's shapes, and `import type` is one keyword away from a runtime import), `export ... from`,
 * side-effect imports, `import x = require()` and dynamic `import()`. Imports that leave backend/ (packages,
 * test/ helpers) do not.
 */

const BACKEND = __dirname;
const ROOT = '(root)';

export interface FolderEdge {
  from: string;
  to: string;
  /** `backend/a/x.ts imports backend/b/y.ts`, one per pair of files. */
  evidence: string[];
}

/** Every module specifier a TypeScript file names, found by TypeScript's own scanner (comments and strings skipped). */
export function specifiersOf(source: string): string[] {
  return preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** `backend/camera/x.ts` → `camera`; `backend/main.ts` → `(root)`. */
export function folderOf(file: string): string {
  const parts = relative(BACKEND, file).split(sep);
  return parts.length > 1 ? parts[0] : ROOT;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The folder-level imports of backend/, with the file imports behind each. */
export function folderEdges(files: string[] = tsFiles(BACKEND)): Map<string, FolderEdge> {
  const edges = new Map<string, FolderEdge>();
  for (const file of files) {
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      if (relative(BACKEND, target).startsWith('..')) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      const edge = edges.get(key) ?? { from, to, evidence: [] };
      edge.evidence.push(`${show(file)} imports ${show(target)}`);
      edges.set(key, edge);
    }
  }
  return edges;
}

function show(path: string): string {
  return relative(dirname(BACKEND), path).split(sep).join('/').replace(/(\.ts)?$/, '.ts');
}

/** The strongly connected components of more than one folder (Tarjan): each holds at least one cycle. */
export function tangles(edges: Iterable<FolderEdge>): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The shortest cycle through `start` inside `members`, as folders (first and last the same). */
function shortestCycle(start: string, members: Set<string>, edges: Map<string, FolderEdge>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const { from, to } of edges.values()) {
      if (from !== v || !members.has(to)) continue;
      if (to === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, v);
        queue.push(to);
      }
    }
  }
  return [start];
}

/**
 * One sentence per cycle: the shortest cycle through each folder of each tangle (the same cycle found from two
 * of its folders is told once), each step with a file import behind it (code before specs).
 */
export function describeCycles(edges: Map<string, FolderEdge>): string[] {
  const told = new Set<string>();
  const sentences: string[] = [];
  for (const members of tangles(edges.values())) {
    for (const member of members) {
      const cycle = rotateToSmallest(shortestCycle(member, new Set(members), edges));
      const name = cycle.join(' -> ');
      if (told.has(name)) continue;
      told.add(name);
      const steps = cycle.slice(1).map((to, i) => firstEvidence(edges.get(`${cycle[i]} -> ${to}`)!));
      sentences.push(`${name} (${steps.join('; ')})`);
    }
  }
  return sentences;
}

/** [b, c, a, b] → [a, b, c, a]: one name per cycle, whichever folder it was found from. */
function rotateToSmallest(cycle: string[]): string[] {
  const open = cycle.slice(0, -1);
  const at = open.indexOf([...open].sort()[0]);
  const rotated = [...open.slice(at), ...open.slice(0, at)];
  return [...rotated, rotated[0]];
}

function firstEvidence(edge: FolderEdge): string {
  return edge.evidence.find((e) => !/\.spec\.ts imports/.test(e)) ?? edge.evidence[0];
}

describe('backend folders', () => {
  const edges = folderEdges();

  it('import each other without cycles', () => {
    expect(describeCycles(edges)).toEqual([]);
  });

  it('leave the gateway alone: only the composition root imports it', () => {
    const importers = [...edges.values()].filter((e) => e.to === 'gateway' && e.from !== ROOT).flatMap((e) => e.evidence);
    expect(importers).toEqual([]);
  });

  it('are all read (the test is not passing on an empty graph)', () => {
    expect(edges.get('time-sync -> access')?.evidence.length).toBeGreaterThan(0);
    expect(edges.get('gateway -> time-sync')?.evidence.length).toBeGreaterThan(0);
  });
});

describe(describeCycles.name, () => {
  const edge = (from: string, to: string, file = `backend/${from}/x.ts imports backend/${to}/y.ts`): [string, FolderEdge] => [`${from} -> ${to}`, { from, to, evidence: [file] }];

  it('names a cycle and the file imports that make it', () => {
    const edges = new Map([edge('camera', 'time-sync'), edge('time-sync', 'camera'), edge('time-sync', 'time')]);
    expect(describeCycles(edges)).toEqual(['camera -> time-sync -> camera (backend/camera/x.ts imports backend/time-sync/y.ts; backend/time-sync/x.ts imports backend/camera/y.ts)']);
  });

  it('names each cycle of a tangle once, the longer ones too', () => {
    const edges = new Map([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd'), edge('d', 'c'), edge('d', 'e')]);
    expect(describeCycles(edges)).toEqual([expect.stringMatching(/^a -> b -> c -> a \(/), expect.stringMatching(/^c -> d -> c \(/)]);
  });

  it('gives code as the evidence before a spec', () => {
    const edges = new Map([edge('a', 'b'), edge('b', 'a', 'backend/b/x.spec.ts imports backend/a/y.ts')]);
    edges.get('b -> a')!.evidence.push('backend/b/x.ts imports backend/a/y.ts');
    expect(describeCycles(edges)).toEqual(['a -> b -> a (backend/a/x.ts imports backend/b/y.ts; backend/b/x.ts imports backend/a/y.ts)']);
  });

  it('is empty for a graph without cycles', () => {
    expect(describeCycles(new Map([edge('a', 'b'), edge('b', 'c'), edge('a', 'c')]))).toEqual([]);
  });
});

describe(specifiersOf.name, () => {
  it('sees type-only imports, re-exports, side-effect, require and dynamic imports, and skips comments and strings', () => {
    const source = [
      "import type { A } from '../a/a';",
      "import { type B, C } from '../b/b';",
      "export * from '../c/c';",
      "export type { D } from '../d/d';",
      "import '../e/e';",
      "import f = require('../f/f');",
      "const g = import('../g/g');",
      "import {\n  H,\n} from '../h/h';",
      "// import { X } from '../commented/x';",
      "const s = `import { Y } from '../in-a-string/y'`;",
    ].join('\n');
    expect(specifiersOf(source)).toEqual(['../a/a', '../b/b', '../c/c', '../d/d', '../e/e', '../f/f', '../g/g', '../h/h']);
  });
});
