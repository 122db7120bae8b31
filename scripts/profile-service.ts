/**
 * Where a request's CPU goes: a CPU profile of `doppel serve` (node --cpu-prof) over a store of
 * the real questions while a second process sends POST /v1/duplicates (or GET /v1/suggest) at a
 * few connections, rendered as a flame graph (SVG) and a table of shares by stage:
 *
 *   node dist/scripts/profile-service.js [--route duplicates|suggest] [--seconds 15] [--out docs/profile]
 *
 * Writes <out>-<route>.svg and <out>-<route>.json (the shares). Stages are read off each sample's
 * stack: the innermost frame from a file that belongs to one (see STAGES); the rest is HTTP and
 * validation (express, zod, Doppel's routes), the garbage collector, or other.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Random } from '../src/util/random.js';
import { realStore, ROOT, serveProcess } from './bench/common.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  endTime: number;
}

/** Samples of the last `seconds` of the profile (the load, not the start-up), by node id: how many each. */
function loadSamples(profile: CpuProfile, seconds: number): Map<number, number> {
  const counts = new Map<number, number>();
  let t = profile.endTime - profile.timeDeltas.reduce((a, b) => a + b, 0);
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i];
    if (t >= profile.endTime - seconds * 1e6) counts.set(id, (counts.get(id) ?? 0) + 1);
  });
  return counts;
}

/** Frames deeper than this are folded into their caller in the graph. */
const MAX_DEPTH = 60;

/** A stage, and the files (or native frames) whose time is its own. */
const STAGES: [string, RegExp][] = [
  ['analysis (slips mended, BM25 analyzer)', /search\/lexical\/(spelling|bigrams|typos|vocabulary)\.js|text\/(bm25-|porter)/],
  ['encode (tokenizer, ONNX Runtime)', /onnxruntime|encoder\/|text\/encoder-tokenizer|@huggingface/],
  ['dense (HNSW)', /directory\/vector-index\.js|hnswlib/],
  ['lexical (BM25 top-k)', /search\/lexical\/|search\/fusion/],
  ['read (SQLite rows and vectors)', /directory\/store\.js|better-sqlite3/],
  ['verdict (features, trees, cross-attention, stack)', /\/verdict\/|model\/load\.js/],
  ['HTTP, validation, JSON (express, zod, routes)', /express|body-parser|zod|service\/|node:internal\/(http|stream|net)|_http_/],
];

function args(): { route: 'duplicates' | 'suggest'; seconds: number; out: string } {
  const get = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const route = (get('route') ?? 'duplicates') as 'duplicates' | 'suggest';
  if (route !== 'duplicates' && route !== 'suggest') throw new Error('--route is duplicates or suggest');
  return { route, seconds: Number(get('seconds') ?? 15), out: get('out') ?? join(ROOT, 'docs/profile') };
}

/** The stage of one stack (leaf first): its innermost frame that belongs to a stage. */
function stageOf(stack: ProfileNode[]): string {
  const leaf = stack[0]?.callFrame.functionName;
  if (leaf === '(garbage collector)') return 'garbage collector';
  if (leaf === '(program)') return 'other (V8, event loop)';
  for (const node of stack) {
    const where = `${node.callFrame.url} ${node.callFrame.functionName}`;
    for (const [stage, files] of STAGES) if (files.test(where)) return stage;
  }
  return 'other (V8, event loop)';
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const frameName = (n: ProfileNode) => {
  const file = n.callFrame.url.replace(/^.*\/(node_modules\/[^/]+|dist\/src)\//, '$1/').replace(/^file:\/\//, '');
  return `${n.callFrame.functionName || '(anonymous)'}${file ? ` ${file}` : ''}`;
};

/** A flame graph: each frame as wide as its share of the busy samples, callers below callees. */
function flameGraph(profile: CpuProfile, hits: Map<number, number>, title: string): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = new Map<number, number>();
  const inclusive = (n: ProfileNode): number => {
    let t = n.callFrame.functionName === '(idle)' ? 0 : (hits.get(n.id) ?? 0);
    for (const c of n.children ?? []) t += inclusive(byId.get(c)!);
    total.set(n.id, t);
    return t;
  };
  const root = profile.nodes[0];
  const all = inclusive(root);
  const width = 1200;
  const row = 16;
  const frames: { x: number; w: number; depth: number; name: string; share: string }[] = [];
  const draw = (n: ProfileNode, x: number, depth: number) => {
    const w = (total.get(n.id)! / all) * width;
    if (w < 0.3 || depth > MAX_DEPTH) return;
    frames.push({ x, w, depth, name: frameName(n), share: ((100 * total.get(n.id)!) / all).toFixed(1) });
    let at = x;
    for (const c of (n.children ?? []).map((id) => byId.get(id)!).sort((p, q) => total.get(q.id)! - total.get(p.id)!)) {
      draw(c, at, depth + 1);
      at += (total.get(c.id)! / all) * width;
    }
  };
  draw(root, 0, 0);
  const height = (Math.max(...frames.map((f) => f.depth)) + 3) * row;
  // The root at the bottom, each callee above its caller; colour by where the code lives.
  const hue = (name: string) => (/verdict/.test(name) ? 20 : /lexical|spelling/.test(name) ? 120 : /onnx|encoder/.test(name) ? 200 : /store|sqlite/.test(name) ? 280 : /hnsw|vector-index/.test(name) ? 50 : -1);
  const rects = frames.map((f) => {
    const y = height - (f.depth + 1) * row;
    const h = hue(f.name);
    const label = f.w > 40 ? `<text x="${(f.x + 2).toFixed(2)}" y="${y + 11}" font-size="10">${escape(f.name.slice(0, Math.floor(f.w / 6)))}</text>` : '';
    return `<g><title>${escape(f.name)}: ${f.share} %</title><rect x="${f.x.toFixed(2)}" y="${y}" width="${f.w.toFixed(2)}" height="${row - 1}" fill="${h < 0 ? '#ddd' : `hsl(${h},70%,72%)`}"/>${label}</g>`;
  });
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace">`, `<text x="4" y="12" font-size="12">${escape(title)}</text>`, ...rects, '</svg>'].join('\n');
}

/** Busy samples by stage (idle ones left out). */
function shares(profile: CpuProfile, hits: Map<number, number>): Record<string, number> {
  const parent = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const counts = new Map<string, number>();
  let busy = 0;
  for (const [id, n] of hits) {
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    const stack: ProfileNode[] = [];
    for (let node: ProfileNode | undefined = leaf; node; node = parent.get(node.id)) stack.push(node);
    const stage = stageOf(stack);
    counts.set(stage, (counts.get(stage) ?? 0) + n);
    busy += n;
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([stage, n]) => [stage, Math.round((1000 * n) / busy) / 10]));
}

const { route, seconds, out } = args();
const dir = mkdtempSync(join(tmpdir(), 'doppel-profile-'));
try {
  const { store, stored, queries } = await realStore(dir);
  const profiles = join(dir, 'profiles');
  const { server, url } = await serveProcess(store, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`] });
  const rng = new Random(9);
  const pick = () => queries[rng.int(queries.length)];
  const request: () => object =
    route === 'duplicates'
      ? () => ({ method: 'POST', path: '/v1/duplicates', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: pick(), k: 10 }) })
      : () => {
          const t = pick();
          return { method: 'GET', path: `/v1/suggest?k=5&q=${encodeURIComponent(t.slice(0, Math.max(3, Math.floor(t.length * (0.3 + 0.6 * rng.next())))))}` };
        };
  const load = await autocannon({ url, connections: 4, duration: seconds, requests: [{ setupRequest: (req: object) => ({ ...req, ...request() }) }] });
  const exited = new Promise((resolve) => server.on('exit', resolve));
  server.kill('SIGTERM');
  await exited;
  const [name] = readdirSync(profiles);
  const profile = JSON.parse(readFileSync(join(profiles, name), 'utf8')) as CpuProfile;
  // The load's samples only: start-up (loading the model, building the indexes) is not a request's.
  const hits = loadSamples(profile, seconds);
  const result = { route: `/v1/${route}`, questions: stored.length, connections: 4, seconds, requestsPerSecond: Math.round(load.requests.average), sharesOfBusyCpu: shares(profile, hits) };
  writeFileSync(`${out}-${route}.json`, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(`${out}-${route}.svg`, flameGraph(profile, hits, `doppel serve, ${result.route}, ${stored.length} questions, 4 connections, ${seconds} s (main thread CPU; hover for shares)`));
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
