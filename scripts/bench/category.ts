/**
 * Category-filtered dense search on the real questions, each given a category so that some
 * categories are rare: latency of Doppel's search (exact scan of a small category's stored
 * vectors, filtered graph search for a large one) against a filtered HNSW search of the same
 * category in the same process, the path every category took before.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRow } from '../../src/data/delimited.js';
import { loadModel } from '../../src/model/load.js';
import { DuplicateIndex } from '../../src/search/stores.js';
import { EXACT_CATEGORY_MAX } from '../../src/search/directory/directory-index.js';
import { importQuestions } from '../../src/search/import-file.js';
import { DEFAULT_HNSW } from '../../src/search/backend.js';
import { spaceFor, VectorIndex } from '../../src/search/directory/vector-index.js';
import { Random } from '../../src/util/random.js';
import { percentile, realQuestions, report, round } from './common.js';

/** Share of questions in each category; the rest are 'general'. */
const CATEGORIES = { rare: 0.001, small: 0.01, medium: 0.03, large: 0.2 };
const QUERIES = 300;

const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-category-'));
try {
  const { texts, dataset } = await realQuestions();
  const rng = new Random(11);
  const categoryOf = texts.map(() => {
    let u = rng.next();
    for (const [name, share] of Object.entries(CATEGORIES)) {
      if (u < share) return name;
      u -= share;
    }
    return 'general';
  });
  const file = join(dir, 'questions.tsv');
  writeFileSync(file, ['id\ttext\tcategory', ...texts.map((t, i) => formatRow([`q${i}`, t, categoryOf[i]], '\t'))].join('\n') + '\n');
  const model = await loadModel();
  const index = await DuplicateIndex.open(join(dir, 'store'), { model });
  await importQuestions(index, file, { batchSize: 1024 });
  const queries = Array.from({ length: QUERIES }, (_, i) => texts[(i * 7919) % texts.length]);
    const dim = model.encoder.dim;
  // The peer: one graph over every question, searched with a category filter (labels = rows).
  const all = await model.encoder.encode(texts);
  const graph = VectorIndex.create(spaceFor(model.files.config.energy), dim, { ...DEFAULT_HNSW }, texts.length);
  for (let i = 0; i < texts.length; i++) graph.add(i, all.subarray(i * dim, (i + 1) * dim));
  const timed = async (fn: (i: number) => unknown) => {
    for (let i = 0; i < 20; i++) await fn(i);
    const times: number[] = [];
    for (let i = 0; i < queries.length; i++) {
      const t = performance.now();
      await fn(i);
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b);
  };
  for (const category of [...Object.keys(CATEGORIES), 'none']) {
    const allowed = new Set(categoryOf.flatMap((c, i) => (c === category ? [i] : [])));
    const members = allowed.size;
    // Both include encoding the query, as a request does.
    const ours = await timed((i) => index.search(queries[i], { mode: 'dense', k: 10, category }));
    const filtered = await timed(async (i) => graph.search(await model.encoder.encode([queries[i]]), 10, (label) => allowed.has(label)));
    const config = { dataset, questions: texts.length, category, members, path: members <= EXACT_CATEGORY_MAX ? 'exact scan' : 'filtered HNSW', queries: QUERIES };
    report({
      bench: 'category',
      metric: `encode + dense top-10 in a ${category === 'none' ? 'category with no members' : `${category} category`}, p99`,
      value: round(percentile(ours, 99), 3),
      unit: 'ms',
      config,
      p50: round(percentile(ours, 50), 3),
      filteredGraphP99: round(percentile(filtered, 99), 3),
      speedupP99: round(percentile(filtered, 99) / percentile(ours, 99), 1),
    });
  }
  await index.close();
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
