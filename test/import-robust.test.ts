import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { readPairs } from '../src/data/pairs.js';
import { readQuestions, type QuestionRecord } from '../src/data/questions.js';
import { readRows, type Row } from '../src/data/records.js';
import { RowWriter } from '../src/data/row-writer.js';
import { DuplicateIndex } from '../src/search/stores.js';
import { importQuestions } from '../src/search/import-file.js';
import { loadModel, type Model } from '../src/model/load.js';
import { MAX_TEXT_LENGTH } from '../src/text/validate.js';
import { CLI, ROOT, tempDir } from './helpers.js';

const run = promisify(execFile);

async function rows(path: string): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of readRows(path)) out.push(r);
  return out;
}

/** Reads questions, collecting the rows reported invalid and the warnings. */
async function questions(path: string) {
  const read: QuestionRecord[] = [];
  const invalid: string[] = [];
  const warnings: string[] = [];
  for await (const q of readQuestions(path, { onInvalid: (line, p) => invalid.push(`${line}: ${p}`), onWarning: (line, w) => warnings.push(`${line}: ${w}`) })) read.push(q);
  return { read, invalid, warnings };
}

describe('reading question files robustly', () => {
  test('TSV: a quote that does not close is read literally, with a warning, and swallows nothing', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    writeFileSync(file, 'id\ttext\n1\t"An unclosed quote here\n2\tsecond\n3\tthird\n');
    const { read, invalid, warnings } = await questions(file);
    assert.deepEqual(read.map((q) => [q.line, q.id, q.text]), [
      [2, '1', '"An unclosed quote here'],
      [3, '2', 'second'],
      [4, '3', 'third'],
    ]);
    assert.deepEqual(invalid, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^2: a quote opened on this line is not closed by the end of the file; its quotes were read literally \(id '1'\)$/);

    // Quotes that are not a whole quoted field are text; a proper quoted field is unquoted.
    writeFileSync(file, 'id\ttext\n1\t"Hello" is a greeting\n2\tsay "hi"\n3\t"Do I need ""the"" here?"\n');
    const r = await questions(file);
    assert.deepEqual(r.read.map((q) => q.text), ['"Hello" is a greeting', 'say "hi"', 'Do I need "the" here?']);
    assert.deepEqual(r.warnings.map((w) => w.split(':')[0]), ['2']);
  });

  test('CSV: an unclosed quote is reported at its line, and the rows after it are read', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.csv');
    writeFileSync(file, 'id,text\n1,"An unclosed quote here\n2,second\n3,third\n');
    let r = await questions(file);
    assert.deepEqual(r.read.map((q) => q.id), ['2', '3']);
    assert.equal(r.invalid.length, 1);
    assert.match(r.invalid[0], /^2: a quote opened on this line is not closed by the end of the file .*\(id '1'\)$/);
    await assert.rejects(async () => {
      for await (const _ of readQuestions(file));
    }, new RegExp(`^DoppelError: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: a quote opened on this line is not closed`));

    // A later quote does not close it silently either: text after a closing quote is an error.
    writeFileSync(file, 'id,text\n1,"unclosed\n2,"second"\n3,third');
    r = await questions(file);
    assert.deepEqual(r.read.map((q) => [q.line, q.id, q.text]), [
      [3, '2', 'second'],
      [4, '3', 'third'],
    ]);
    assert.match(r.invalid[0], /^2: the quoted field opened on this line has text after its closing quote/);
  });

  test('quoted fields over several lines still round-trip (TSV and CSV written by RowWriter)', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const texts = ['Line one\nline "two"\twith a tab, and a comma', 'plain', '"quoted" start', ''];
    for (const format of ['tsv', 'csv'] as const) {
      const file = join(dir, `out.${format}`);
      const w = new RowWriter(['id', 'text'], format, file);
      for (let i = 0; i < texts.length; i++) await w.row({ id: `q${i}`, text: texts[i] });
      await w.close();
      const back = await rows(file);
      assert.deepEqual(back.map((r) => r.values.text), texts, format);
      assert.deepEqual(back.map((r) => r.line), [2, 4, 5, 6], `${format}: each row keeps the line where it starts`);
      assert.ok(back.every((r) => !r.problem && !r.warning));
    }
  });

  test('CRLF line ends and a UTF-8 BOM', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    writeFileSync(file, '\uFEFFid\ttext\tcategory\r\n1\tWhat is a BOM?\tx\r\n2\t"Two\r\nlines"\ty\r\n');
    const { read } = await questions(file);
    assert.deepEqual(read.map((q) => [q.id, q.text, q.category]), [
      ['1', 'What is a BOM?', 'x'],
      ['2', 'Two\nlines', 'y'],
    ]);
    const jsonl = join(dir, 'q.jsonl');
    writeFileSync(jsonl, '\uFEFF{"id":"a","text":"first"}\r\n{"id":"b","text":"second"}\r\n');
    assert.deepEqual((await questions(jsonl)).read.map((q) => q.text), ['first', 'second']);
  });

  test('invalid UTF-8 and NUL bytes are reported with line and id; the rows after them are read', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    writeFileSync(file, Buffer.concat([Buffer.from('id\ttext\nq1\tcaf'), Buffer.from([0xe9]), Buffer.from('\nq2\tok\0no\nq3\tfine\n')]));
    const { read, invalid } = await questions(file);
    assert.deepEqual(read.map((q) => q.id), ['q3']);
    assert.deepEqual(invalid, [
      "2: not valid UTF-8 (is the file in another encoding? save it as UTF-8) (id 'q1')",
      "3: contains a NUL byte (binary data, or UTF-16 text?) (id 'q2')",
    ]);
    // An escaped NUL in JSON is caught by the text check.
    const jsonl = join(dir, 'q.jsonl');
    writeFileSync(jsonl, '{"id":"a","text":"nul \\u0000 here"}\n{"id":"b","text":"fine"}\n');
    const j = await questions(jsonl);
    assert.deepEqual(j.invalid, ["1: text contains a NUL character (id 'a')"]);
    // UTF-16 is refused as a whole, not read as rows of NULs.
    const utf16 = join(dir, 'u16.tsv');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id\ttext\n1\thi\n', 'utf16le')]));
    await assert.rejects(rows(utf16), /the file is UTF-16 text; save it as UTF-8/);
  });

  test(`a text over ${MAX_TEXT_LENGTH} characters is an invalid row named by file, line and id`, async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    writeFileSync(file, `id\ttext\nq1\t${'a'.repeat(MAX_TEXT_LENGTH)}\nq2\t  ${'b'.repeat(MAX_TEXT_LENGTH + 1)}  \nq3\tshort\n`);
    const { read, invalid } = await questions(file);
    assert.deepEqual(read.map((q) => q.id), ['q1', 'q3'], `exactly ${MAX_TEXT_LENGTH} characters (after trimming) is accepted`);
    assert.deepEqual(invalid, [`3: text is longer than ${MAX_TEXT_LENGTH} characters (${MAX_TEXT_LENGTH + 1}) (id 'q2')`]);
    await assert.rejects(async () => {
      for await (const _ of readQuestions(file));
    }, (err: Error) => err.message === `${file}:3: text is longer than ${MAX_TEXT_LENGTH} characters (${MAX_TEXT_LENGTH + 1}) (id 'q2')`);
  });

  test('a single 100 MB line is reported as too long, in bounded memory, and the rest is read', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'huge.tsv');
    const fd = openSync(file, 'w');
    writeSync(fd, 'id\ttext\nq1\tbefore\nq2\t');
    const block = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 100; i++) writeSync(fd, block);
    writeSync(fd, '\nq3\tafter\n');
    closeSync(fd);
    // A child with a small heap: holding the line as a string (100M characters) would not fit.
    const script = `
      import { readQuestions } from ${JSON.stringify(join(ROOT, 'dist/src/data/questions.js'))};
      const ids = [], invalid = [];
      for await (const q of readQuestions(${JSON.stringify(file)}, { onInvalid: (line, p) => invalid.push(line + ': ' + p) })) ids.push(q.id);
      console.log(JSON.stringify({ ids, invalid, rssMb: process.memoryUsage().rss / 1e6 }));`;
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--max-old-space-size=48', '--input-type=module', '-e', script], { timeout: 60_000 });
    const result = JSON.parse(stdout);
    assert.deepEqual(result.ids, ['q1', 'q3']);
    assert.deepEqual(result.invalid, ['3: line is 100.0 MiB long, over the limit of 1.0 MiB']);
    assert.ok(result.rssMb < 400, `resident memory ${result.rssMb} MB`);
    assert.ok(Date.now() - started < 30_000, 'no hang');
  });

  test('pairs and plain-text files keep their behaviour, and report unreadable lines', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const pairs = join(dir, 'p.tsv');
    writeFileSync(pairs, Buffer.concat([Buffer.from('question1\tquestion2\tis_duplicate\r\nA?\tB?\t1\r\nbad'), Buffer.from([0xff]), Buffer.from('\tx\t0\r\n"C ""c"""\tD\t0\r\n')]));
    await assert.rejects(readPairs(pairs), /p.tsv:3: not valid UTF-8/);
    const { pairs: read, skipped } = await readPairs(pairs, { skipInvalid: true });
    assert.deepEqual(read, [
      { q1: 'A?', q2: 'B?', label: 1 },
      { q1: 'C "c"', q2: 'D', label: 0 },
    ]);
    assert.equal(skipped, 1);
    const text = join(dir, 'q.txt');
    writeFileSync(text, `first\r\n\r\n${'z'.repeat(MAX_TEXT_LENGTH + 5)}\nlast`);
    const r = await questions(text);
    assert.deepEqual(r.read.map((q) => [q.id, q.text]), [
      ['1', 'first'],
      ['4', 'last'],
    ]);
    assert.deepEqual(r.invalid, [`3: text is longer than ${MAX_TEXT_LENGTH} characters (${MAX_TEXT_LENGTH + 5}) (id '3')`]);
  });
});

describe('importing into an index', () => {
  let model: Model;
  before(async () => {
    model = await loadModel(undefined, { backend: 'wasm' });
  });
  after(() => model.dispose());

  test('the TSV file with an unclosed quote imports three questions, not one', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    writeFileSync(file, 'id\ttext\n1\t"An unclosed quote here\n2\tHow do I learn Python?\n3\tWhat is the capital of Peru?\n');
    const index = await DuplicateIndex.open(join(dir, 'store'), { model });
    try {
      const warnings: number[] = [];
      const r = await importQuestions(index, file, { onInvalid: () => assert.fail('no invalid row'), onWarning: (line) => warnings.push(line) });
      assert.deepEqual([r.added, r.invalid], [3, 0]);
      assert.deepEqual(warnings, [2]);
      assert.equal((await index.get('1'))?.text, '"An unclosed quote here');
    } finally {
      await index.close();
    }
  });

  test('CLI index build: a bad row fails with file:line and id before the store changes; --skip-invalid skips it', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    const long = 'Why '.repeat(600);
    writeFileSync(file, `id\ttext\nq1\tHow do I learn Python?\nq2\t${long}\nq3\tWhat is the capital of Peru?\nq4\tnul\0here\nq5\t"Hello" is a greeting?\n`);
    const store = join(dir, 'store');
    const failed = await run(process.execPath, [CLI, 'index', 'build', '--store', store, '--questions', file]).then(
      () => assert.fail('should fail'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, new RegExp(`doppel: .*q\\.tsv:3: text is longer than ${MAX_TEXT_LENGTH} characters \\(${long.trim().length}\\) \\(id 'q2'\\)`));
    assert.ok(!existsSync(store), 'nothing was written');
    const { stderr } = await run(process.execPath, [CLI, 'index', 'build', '--store', store, '--questions', file, '--skip-invalid']);
    assert.match(stderr, /q\.tsv:3: text is longer than 2000 characters \(\d+\) \(id 'q2'\) \(skipped\)/);
    assert.match(stderr, /q\.tsv:5: contains a NUL byte .*\(id 'q4'\) \(skipped\)/);
    assert.match(stderr, /q\.tsv:6: the quoted field opened on this line has text after its closing quote; its quotes were read literally \(id 'q5'\)/);
    assert.match(stderr, /added 3, already present 0, id conflicts 0, invalid rows 2/);
  });
});
