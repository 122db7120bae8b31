import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readPairs } from '../src/data/pairs.js';
import { splitByCluster } from '../src/data/split.js';
import { questionKey } from '../src/text/question-key.js';
import { SAMPLE_PAIRS, tempDir } from './helpers.js';

describe('pair files', () => {
  test('Quora TSV with extra columns and quoted fields', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'p.tsv');
    writeFileSync(file, 'id\tquestion1\tquestion2\tis_duplicate\tsource\n0\t"Say ""hi""?"\tSay hi ?\t1\tx\n1\tA\tB\t0\ty\n');
    const { pairs } = await readPairs(file);
    assert.deepEqual(pairs, [
      { q1: 'Say "hi"?', q2: 'Say hi ?', label: 1 },
      { q1: 'A', q2: 'B', label: 0 },
    ]);
  });

  test('Kaggle train.csv layout with a newline inside a quoted field', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'train.csv');
    writeFileSync(file, '"id","qid1","qid2","question1","question2","is_duplicate"\r\n"0","1","2","What, exactly?","Line one\nline two","0"\r\n"1","3","4","x","y","1"\r\n');
    const { pairs } = await readPairs(file);
    assert.equal(pairs.length, 2);
    assert.equal(pairs[0].q1, 'What, exactly?');
    assert.equal(pairs[0].q2, 'Line one\nline two');
    assert.equal(pairs[1].label, 1);
  });

  test('JSONL', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'p.jsonl');
    writeFileSync(file, '{"question1":"a?","question2":"b?","is_duplicate":1}\n\n{"question1":"c","question2":"d","is_duplicate":0}\n');
    assert.equal((await readPairs(file)).pairs.length, 2);
  });

  test('malformed rows name the file and line; --skip-invalid counts them', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'bad.tsv');
    writeFileSync(file, 'question1\tquestion2\tis_duplicate\nok\tfine\t1\nonly two\tfields\nx\t\t0\ny\tz\tmaybe\nlast\tone\t0\n');
    await assert.rejects(readPairs(file), (err: Error) => err.message.startsWith(`${file}:3: expected 3 fields`));
    const { pairs, skipped } = await readPairs(file, { skipInvalid: true });
    assert.equal(pairs.length, 2);
    assert.equal(skipped, 3);
    const jsonl = join(dir, 'bad.jsonl');
    writeFileSync(jsonl, '{"question1":"a","question2":"b","is_duplicate":1}\n{nope\n');
    await assert.rejects(readPairs(jsonl), /bad.jsonl:2: invalid JSON/);
    const noCols = join(dir, 'cols.csv');
    writeFileSync(noCols, 'a,b\n1,2\n');
    await assert.rejects(readPairs(noCols), /missing column\(s\) question1, question2, is_duplicate/);
    await assert.rejects(readPairs(join(dir, 'missing.tsv')), /no such file/);
  });
});

describe('cluster split', () => {
  test('no question is on both sides, and the held-out share is close to the fraction', async () => {
    const { pairs } = await readPairs(SAMPLE_PAIRS);
    const { train, valid } = splitByCluster(pairs, 0.2, 7);
    assert.equal(train.length + valid.length, pairs.length);
    assert.ok(Math.abs(valid.length / pairs.length - 0.2) < 0.05, `valid share ${valid.length / pairs.length}`);
    const trainKeys = new Set(train.flatMap((p) => [questionKey(p.q1), questionKey(p.q2)]));
    assert.ok(valid.every((p) => !trainKeys.has(questionKey(p.q1)) && !trainKeys.has(questionKey(p.q2))));
    assert.deepEqual(splitByCluster(pairs, 0.2, 7).valid, valid, 'same seed, same split');
  });
});
