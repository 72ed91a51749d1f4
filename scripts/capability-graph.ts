/**
 * The import graph between the folders under src/ (one folder per capability, plus core, wiring
 * and the demo loader): which folder imports which, and the cycles among them (Tarjan's strongly
 * connected components). `node --import tsx scripts/capability-graph.ts` prints the edges and cycles;
 * test/capability-graph.test.ts asserts there are none.
 */
import fs from 'node:fs';
import path from 'node:path';

export type ImportEdge = { from: string; to: string; file: string; specifier: string; typeOnly: boolean };

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * The one sanctioned edge from core into the capabilities: core/schema.ts assembles the database's
 * type from each capability's table declarations (`<capability>/tables.ts`, types only, erased at
 * run time). It is left out of the graph; test/capability-graph.test.ts checks that tables.ts files
 * stay declarations that import nothing from another capability.
 */
export function isSchemaAssembly(edge: Pick<ImportEdge, 'file' | 'specifier' | 'typeOnly'>): boolean {
  return (
    edge.file === path.join('core', 'schema.ts') && edge.typeOnly && edge.specifier.endsWith('/tables.ts')
  );
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The folder under src/ a file belongs to; files directly in src/ are the root (`.`). */
function folderOf(srcDir: string, file: string): string {
  const rel = path.relative(srcDir, file).split(path.sep);
  return rel.length > 1 ? rel[0]! : '.';
}

/** Every import from one folder under src/ into another (tests excluded: they may reach across). */
export function importEdges(srcDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(srcDir)) {
    const from = folderOf(srcDir, file);
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[2] ?? match[3] ?? '';
      if (!specifier.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(srcDir + path.sep)) continue;
      const to = folderOf(srcDir, target);
      const edge = { from, to, file: path.relative(srcDir, file), specifier, typeOnly: Boolean(match[1]) };
      if (to !== from && !isSchemaAssembly(edge)) edges.push(edge);
    }
  }
  return edges;
}

/** The strongly connected components with more than one folder: each is a cycle of imports. */
export function cycles(edges: ImportEdge[]): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!graph.has(from)) graph.set(from, new Set());
    if (!graph.has(to)) graph.set(to, new Set());
    graph.get(from)!.add(to);
  }
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node);
  return found;
}

/** Distinct folder-to-folder pairs, e.g. `families -> places`. */
export function folderPairs(edges: ImportEdge[]): string[] {
  return [...new Set(edges.map((e) => `${e.from} -> ${e.to}`))].sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const srcDir = path.resolve(import.meta.dirname, '..', 'src');
  const edges = importEdges(srcDir);
  const pairs = folderPairs(edges);
  const found = cycles(edges);
  console.log(`${edges.length} imports across folders, ${pairs.length} folder pairs:`);
  for (const pair of pairs)
    console.log(`  ${pair} (${edges.filter((e) => `${e.from} -> ${e.to}` === pair).length})`);
  console.log(`${found.length} cycles (strongly connected groups of folders):`);
  for (const group of found) console.log(`  ${group.join(', ')}`);
  // Two-folder cycles, the pairs that import each other directly.
  const mutual = pairs.filter((p) => {
    const [a = '', b = ''] = p.split(' -> ');
    return a < b && pairs.includes(`${b} -> ${a}`);
  });
  console.log(
    `${mutual.length} pairs importing each other: ${mutual.map((p) => p.replace(' -> ', ' <-> ')).join('; ')}`,
  );
}
