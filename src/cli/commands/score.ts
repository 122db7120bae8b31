import type { DecisionChoice, Model, PairExplanation } from '../../model/load.js';
import { DuplicateIndex } from '../../search/stores.js';

const fmt = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(2);

function explanationText(r: PairExplanation): string[] {
  const lines: string[] = [];
  if (r.alignment) {
    lines.push(`word pairs carrying the similarity (cosine ${r.alignment.cosine.toFixed(3)}):`);
    for (const p of r.alignment.pairs) lines.push(`  ${p.a.padEnd(16)} ~ ${p.b.padEnd(16)} ${p.share.toFixed(3)}`);
  }
  lines.push(r.summary);
  if (r.reasons) {
    if (r.rule === 'identical-text') lines.push('the two texts are the same question once normalised: a duplicate whatever the model says');
    lines.push(`verdict reasons (log-odds from an average pair's ${r.baseline!.toFixed(2)}; + towards duplicate):`);
    for (const x of r.reasons.slice(0, 8)) lines.push(`  ${x.label.padEnd(42)} ${String(Number(x.value.toFixed(3))).padStart(8)}  ${fmt(x.contribution)}`);
  }
  return lines;
}

/** `doppel score`: energy, probability and verdict for two questions, and with --explain, why. */
export async function scoreCommand(model: Model, rawA: string, rawB: string, options: { json: boolean; explain: boolean; store?: string } & DecisionChoice): Promise<void> {
  const choice = { operatingPoint: options.operatingPoint, minProbability: options.minProbability };
  let [a, b] = [rawA, rawB];
  if (options.store) {
    const index = await DuplicateIndex.open(options.store, { model, readonly: true });
    try {
      [a, b] = await index.mend([a, b]);
    } finally {
      await index.close();
    }
  }
  const result = options.explain ? await model.explainPair(a, b, choice) : await model.scorePair(a, b, choice);
  if (options.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const { threshold, operatingPoint, decidedBy } = result.decision;
  const verdictLine = `energy ${result.energy.toFixed(4)}, probability ${result.probability.toFixed(3)} (${decidedBy}; duplicate at >= ${threshold.toFixed(3)}, ${operatingPoint}): ${result.isDuplicate ? 'DUPLICATE' : 'not a duplicate'}`;
  const lines = [verdictLine, ...(options.explain ? explanationText(result as PairExplanation) : [])];
  process.stdout.write(lines.join('\n') + '\n');
}
