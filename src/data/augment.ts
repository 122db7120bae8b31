import { questionKey } from '../text/question-key.js';
import { KeyedUnionFind } from '../util/union-find.js';
import { Random } from '../util/random.js';
import type { Pair } from './pairs.js';

/**
 * Adds the pairs that labels imply by transitivity: duplicates of duplicates are duplicates
 * (A~B, B~C => A~C), and a duplicate of a question is not a duplicate of what that question is
 * not (A~B, B!~C => A!~C). Built only from the given (training) pairs, so no validation
 * question leaks in. `maxPerPair` bounds how many implied pairs one labelled pair can add.
 */
export function augmentTransitive(pairs: Pair[], seed: number, maxPerPair = 4): Pair[] {
  const clusters = new KeyedUnionFind();
  const text = new Map<string, string>();
  for (const p of pairs) {
    const [a, b] = [questionKey(p.q1), questionKey(p.q2)];
    text.set(a, p.q1);
    text.set(b, p.q2);
    clusters.add(a);
    clusters.add(b);
    if (p.label === 1) clusters.union(a, b);
  }
  const members = clusters.groups();
  const known = new Set(pairs.map((p) => [questionKey(p.q1), questionKey(p.q2)].sort().join('\u0000')));
  const rng = new Random(seed);
  const extra: Pair[] = [];
  const take = (a: string, b: string, label: 0 | 1) => {
    const key = [a, b].sort().join('\u0000');
    if (a === b || known.has(key)) return false;
    known.add(key);
    extra.push({ q1: text.get(a)!, q2: text.get(b)!, label });
    return true;
  };
  for (const p of pairs) {
    const ca = members.get(clusters.find(questionKey(p.q1)))!;
    const cb = members.get(clusters.find(questionKey(p.q2)))!;
    if (ca.length === 1 && cb.length === 1) continue;
    let added = 0;
    for (let tries = 0; tries < 4 * maxPerPair && added < maxPerPair; tries++) {
      const a = ca[rng.int(ca.length)];
      const b = cb[rng.int(cb.length)];
      if (take(a, b, p.label)) added++;
    }
  }
  return pairs.concat(extra);
}
