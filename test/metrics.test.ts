import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { averagePrecision, binaryMetrics, maxAccuracyThreshold, precisionThreshold, rocAuc } from '../src/evaluation/binary-classification.js';
import { mrrAt, ndcgAt, recallAt } from '../src/evaluation/information-retrieval.js';
import { fitPlatt, plattProbability } from '../src/model/platt.js';
import { Metrics, methodLabel, UNMATCHED_ROUTE } from '../src/service/metrics.js';

describe('pair metrics (low energy = duplicate)', () => {
  const energies = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
  const labels = [1, 1, 0, 1, 0, 0];
  test('ROC-AUC and average precision by hand', () => {
    // Positive-negative orderings: (0.1,0.2 beat all 3 negatives) 6 + (0.4 beats 0.5, 0.6) 2 = 8 of 9.
    assert.ok(Math.abs(rocAuc(energies, labels) - 8 / 9) < 1e-12);
    assert.equal(rocAuc([0.5, 0.5], [1, 0]), 0.5);
    assert.ok(Math.abs(averagePrecision(energies, labels) - (1 + 1 + 3 / 4) / 3) < 1e-12);
  });
  test('max-accuracy and target-precision thresholds', () => {
    const t = maxAccuracyThreshold(energies, labels);
    assert.ok(t > 0.2 && t < 0.3 || t > 0.4 && t < 0.5);
    assert.equal(binaryMetrics(energies, labels, t).accuracy, 5 / 6);
    const p = precisionThreshold(energies, labels, 1);
    assert.ok(p > 0.2 && p < 0.3);
    const m = binaryMetrics(energies, labels, 0.45);
    assert.deepEqual([m.precision, m.recall], [0.75, 1]);
  });
  test('Platt scaling is monotone decreasing in the energy and fits the rates', () => {
    const e: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 200; i++) {
      e.push(i / 200);
      y.push(i < 100 ? (i % 10 === 0 ? 0 : 1) : i % 10 === 0 ? 1 : 0);
    }
    const platt = fitPlatt(e, y);
    assert.ok(platt.a > 0);
    assert.ok(plattProbability(platt, 0.1) > 0.8);
    assert.ok(plattProbability(platt, 0.9) < 0.2);
  });
});

describe('retrieval metrics', () => {
  test('nDCG, MRR and recall by hand', () => {
    const relevant = new Set(['a', 'b']);
    const ranked = ['x', 'a', 'y', 'b'];
    assert.ok(Math.abs(ndcgAt(ranked, relevant, 10) - (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3))) < 1e-12);
    assert.equal(mrrAt(ranked, relevant, 10), 0.5);
    assert.equal(recallAt(ranked, relevant, 1), 0);
    assert.equal(recallAt(ranked, relevant, 10), 1);
    assert.equal(recallAt(['a'], new Set(Array.from({ length: 20 }, (_, i) => (i === 0 ? 'a' : `r${i}`))), 10), 0.1);
  });
});

describe('service metrics (Prometheus, prom-client)', () => {
  test('methods fold to a fixed set, so clients cannot mint label values', async () => {
    assert.equal(methodLabel('GET'), 'GET');
    assert.equal(methodLabel('DELETE'), 'DELETE');
    for (const m of ['PROPFIND', 'MKCOL', 'SEARCH', 'LOCK', 'get', 'X'.repeat(100)]) assert.equal(methodLabel(m), 'other');
    const m = new Metrics({ processMetrics: false });
    for (const method of ['PROPFIND', 'MKCOL', 'SEARCH', 'LOCK', 'REPORT']) m.observe(method, UNMATCHED_ROUTE, 404, 0.001);
    const text = await m.render();
    assert.match(text, /doppel_http_requests_total\{method="other",route="unmatched",status="404"\} 5/);
    assert.match(text, /doppel_http_request_duration_seconds_count\{method="other",route="unmatched",status="404"\} 5/);
    assert.ok(!text.includes('PROPFIND'));
  });

  test('the rendered size depends on the series, not on the number of requests', async () => {
    const m = new Metrics({ processMetrics: false });
    m.observe('GET', '/healthz', 200, 0.001);
    const one = (await m.render()).length;
    for (let i = 0; i < 10_000; i++) m.observe('GET', '/healthz', 200, 0.001);
    assert.ok((await m.render()).length - one < 100);
  });

  test('index gauges are read at scrape time, once per scrape; the model is an info gauge', async () => {
    let reads = 0;
    const figures = { indexed: 3, deleted: 1, feedback: 2 };
    const m = new Metrics({ processMetrics: false, index: async () => (reads++, figures), model: () => ({ model: 'abc', energy: 'l2', encoder: 'onnx "x"' }) });
    const text = await m.render();
    assert.equal(reads, 1, 'one read of the store per scrape');
    assert.match(text, /^doppel_index_questions 3$/m);
    assert.match(text, /^doppel_store_deleted_questions 1$/m);
    assert.match(text, /^doppel_feedback_pairs 2$/m);
    assert.match(text, /^doppel_model_info\{model="abc",energy="l2",encoder="onnx \\"x\\""\} 1$/m);
    figures.indexed = 7;
    assert.match(await m.render(), /^doppel_index_questions 7$/m);
    assert.equal(reads, 2);
  });

  test('each Metrics has its own registry; process metrics are shared, not prom-client globals', async () => {
    const { register } = await import('prom-client');
    const a = new Metrics();
    const b = new Metrics();
    a.observe('GET', '/healthz', 200, 0.01);
    a.observe('GET', '/healthz', 200, 0.01);
    b.observe('GET', '/healthz', 200, 0.01);
    const [ta, tb] = [await a.render(), await b.render()];
    assert.match(ta, /doppel_http_requests_total\{method="GET",route="\/healthz",status="200"\} 2/);
    assert.match(tb, /doppel_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
    for (const t of [ta, tb]) {
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) assert.ok(t.includes(`# TYPE ${name} `), name);
    }
    assert.match(a.contentType, /^text\/plain/);
    assert.equal(register.getMetricsAsArray().length, 0, "nothing lands in prom-client's global registry");
  });
});
