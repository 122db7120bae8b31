import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { communities, connectedComponents, type Link } from '../src/dedup/clustering.js';
import { dedupFile, type DedupRow } from '../src/dedup/dedup.js';
import { readRows } from '../src/data/records.js';
import { DuplicateIndex } from '../src/search/stores.js';
import { loadModel, type Model } from '../src/model/load.js';
import { CLI, tempDir } from './helpers.js';

const run = promisify(execFile);

describe('clustering', () => {
  // A chain A~B~C~D where A and D are far apart: links only between neighbours in the chain.
  const chain: Link[] = [
    { a: 0, b: 1, energy: 0.1 },
    { a: 1, b: 2, energy: 0.2 },
    { a: 2, b: 3, energy: 0.1 },
  ];
  test('components chain everything together', () => {
    const { labels } = connectedComponents(5, chain, Float64Array.from([1, 2, 2, 1, 0]));
    assert.deepEqual(Array.from(labels), [0, 0, 0, 0, -1]);
  });
  test('community keeps the ends of a chain apart', () => {
    const { labels, centres } = communities(5, chain);
    assert.notEqual(labels[0], labels[3]);
    assert.equal(labels[4], -1);
    for (const c of centres) assert.ok(labels[c] >= 0);
  });
});

describe('doppel dedup on real files', () => {
  let model: Model;
  before(async () => {
    model = await loadModel();
  });
  after(() => model.dispose());

  const questions = [
    'id\ttext\tsource',
    '1\tHow do I learn Python programming?\tforum',
    '2\thow do I learn python programming\tforum', // exact duplicate after normalisation
    '3\tHow can I learn Python programming?\tforum',
    '4\tWhat is the capital of Australia?\tfaq',
    '5\tHow do I bake sourdough bread at home?\tfaq',
    '6\t\tfaq',
    '7\t"A ""quoted"", comma, question?"\tfaq',
    '8\t"A ""quoted"", comma, question?"\tfaq',
  ].join('\n');

  const collect = async (path: string, threshold: number, clustering: 'components' | 'community' = 'community') => {
    const rows: DedupRow[] = [];
    const summary = await dedupFile(path, { model, threshold, k: 5, clustering, minClusterSize: 2, strict: false }, (r) => void rows.push(r));
    return { rows, summary };
  };
  const groupOf = (rows: DedupRow[], id: string) => rows.find((r) => r.record.id === id)?.clusterId;

  test('exact duplicates are grouped, near duplicates join at a permissive threshold and not at a strict one', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    writeFileSync(file, questions);
    const strict = await collect(file, 1e-6);
    assert.equal(strict.summary.exactDuplicates, 2);
    assert.equal(strict.summary.invalid, 1);
    assert.deepEqual(strict.rows.map((r) => r.record.id), ['1', '2', '7', '8']);
    assert.equal(groupOf(strict.rows, '1'), groupOf(strict.rows, '2'));
    assert.equal(strict.rows[0].energyToRepresentative, 0);
    const permissive = await collect(file, 0.9, 'components');
    assert.equal(groupOf(permissive.rows, '3'), groupOf(permissive.rows, '1'), 'the paraphrase joins at a permissive threshold');
    assert.equal(strict.rows.find((r) => r.record.id === '3'), undefined, 'and stays out at a strict one');
    assert.equal(permissive.rows[0].record.extra.source, 'forum', 'other columns are carried through');
  });

  test('CLI: output round-trips through a CSV parser; --strict, --force and --json', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    writeFileSync(file, questions);
    const out = join(dir, 'groups.csv');
    const { stdout } = await run(process.execPath, [CLI, 'dedup', file, '--out', out, '--threshold', '0.9', '--json']);
    const summary = JSON.parse(stdout);
    assert.equal(summary.questions, 7);
    assert.ok(summary.clusters >= 1);
    const parsed = [];
    for await (const row of readRows(out)) parsed.push(row.values);
    assert.deepEqual(Object.keys(parsed[0]), ['cluster_id', 'id', 'text', 'representative_id', 'energy_to_representative', 'source']);
    assert.equal(parsed.find((r) => r.id === '7')?.text, 'A "quoted", comma, question?');
    await assert.rejects(run(process.execPath, [CLI, 'dedup', file, '--out', out]), /exists; pass --force/);
    await run(process.execPath, [CLI, 'dedup', file, '--out', out, '--force', '--format', 'jsonl']);
    const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]);
    assert.equal(typeof first.cluster_id, 'number');
    await assert.rejects(run(process.execPath, [CLI, 'dedup', file, '--strict']), /q.tsv:7: text must not be empty/);
  });

  test('--against finds a stored duplicate', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const index = await DuplicateIndex.open(join(dir, 'store'), { model });
    await index.add([
      { id: 's1', text: 'What is the capital city of Australia?' },
      { id: 's2', text: 'How do I change a flat tyre?' },
    ]);
    await index.close();
    const file = join(dir, 'new.txt');
    writeFileSync(file, 'What is the capital city of Australia?\nWho wrote Hamlet?\n');
    const out = join(dir, 'matches.tsv');
    await run(process.execPath, [CLI, 'dedup', file, '--against', join(dir, 'store'), '--out', out]);
    const rows = [];
    for await (const row of readRows(out)) rows.push(row.values);
    assert.equal(rows.length, 2);
    assert.deepEqual([rows[0].id, rows[0].match_id, rows[0].is_duplicate], ['1', 's1', 'true']);
  });
});
