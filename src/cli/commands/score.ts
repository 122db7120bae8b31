import type { Model, PairExplanation } from '../../model/load.js';

const fmt = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(2);

function explanationText(r: PairExplanation): string[] {
  const lines: string[] = [];
  if (r.alignment) {
    lines.push(`word pairs carrying the similarity (cosine ${r.alignment.cosine.toFixed(3)}):`);
    for (const p of r.alignment.pairs) lines.push(`  ${p.a.padEnd(16)} ~ ${p.b.padEnd(16)} ${p.share.toFixed(3)}`);
  }
  if (r.reasons) {
    if (r.rule === 'identical-text') lines.push('the two texts are the same question once normalised: a duplicate whatever the model says');
    lines.push(`verdict reasons (log-odds from an average pair's ${r.baseline!.toFixed(2)}; + towards duplicate):`);
    for (const x of r.reasons.slice(0, 8)) lines.push(`  ${x.feature.padEnd(22)} ${String(Number(x.value.toFixed(3))).padStart(8)}  ${fmt(x.contribution)}`);
  }
  return lines;
}

/** `doppel score`: energy, probability and verdict for two questions, and with --explain, why. */
export async function scoreCommand(model: Model, a: string, b: string, options: { json: boolean; explain: boolean }): Promise<void> {
  const result = options.explain ? await model.explainPair(a, b) : await model.scorePair(a, b);
  if (options.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const verdictLine = `energy ${result.energy.toFixed(4)} (threshold ${result.threshold.toFixed(4)}), probability ${result.probability.toFixed(3)} (${result.decidedBy}): ${result.isDuplicate ? 'DUPLICATE' : 'not a duplicate'}`;
  const lines = [verdictLine, ...(options.explain ? explanationText(result as PairExplanation) : [])];
  process.stdout.write(lines.join('\n') + '\n');
}
