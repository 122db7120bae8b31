import { type TextAnalysis, cosine } from './analysis.js';
import type { Idf } from './idf.js';

/**
 * The lexical evidence of a pair, every feature symmetric in (a, b): what the two questions share
 * and what only one of them says, weighted by how rare each word is, and the small words that
 * flip a meaning (numbers, negation, the question word). None of it depends on the encoder, so a
 * model over these features can train on the encoder's own training pairs.
 */
export const FEATURE_NAMES = [
  'words_min',
  'words_max',
  'words_diff',
  'chars_ratio',
  'shared_words',
  'unshared_words',
  'word_jaccard',
  'shared_idf',
  'unshared_idf',
  'idf_overlap',
  'max_unshared_idf',
  'rare_shared',
  'rare_unshared',
  'numbers_both',
  'numbers_one_side',
  'numbers_mismatched',
  'negation_one_side',
  'same_question_type',
  'question_type_min',
  'question_type_max',
  'first_word_same',
  'last_word_same',
  'word_tfidf_cosine',
  'trigram_tfidf_cosine',
  'unshared_words_min_side',
  'unshared_words_max_side',
  'unshared_idf_min_side',
  'unshared_idf_max_side',
  'content_jaccard',
  'bigram_jaccard',
  'lcs_ratio',
  'chars_diff',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/** Words compared in order (LCS costs their product): a question's first 64 say what it asks. */
const MAX_ORDERED_WORDS = 64;

function jaccard(x: Set<string>, y: Set<string>): number {
  let shared = 0;
  for (const t of x) if (y.has(t)) shared++;
  const union = x.size + y.size - shared;
  return union > 0 ? shared / union : 1;
}

/** Length of the longest common subsequence of two word lists: shared words in the same order. */
function longestCommonSubsequence(x: readonly string[], y: readonly string[]): number {
  let previous = new Uint16Array(y.length + 1);
  let current = new Uint16Array(y.length + 1);
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) current[j] = x[i - 1] === y[j - 1] ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
    [previous, current] = [current, previous];
  }
  return previous[y.length];
}

export function pairFeatures(a: TextAnalysis, b: TextAnalysis, idf: Idf): Float64Array {
  let shared = 0;
  let sharedIdf = 0;
  let rareShared = 0;
  for (const w of a.wordSet) {
    if (!b.wordSet.has(w)) continue;
    shared++;
    const x = idf.word(w);
    sharedIdf += x;
    if (x >= idf.rare) rareShared++;
  }
  let maxUnsharedIdf = 0;
  let rareUnshared = 0;
  const sides = ([
    [a, b],
    [b, a],
  ] as const).map(([one, other]) => {
    let count = 0;
    let mass = 0;
    for (const w of one.wordSet) {
      if (other.wordSet.has(w)) continue;
      count++;
      const x = idf.word(w);
      mass += x;
      maxUnsharedIdf = Math.max(maxUnsharedIdf, x);
      if (x >= idf.rare) rareUnshared++;
    }
    return { count, mass };
  });
  const unshared = sides[0].count + sides[1].count;
  const unsharedIdf = sides[0].mass + sides[1].mass;
  // Content words: those rarer than stop words (see Idf.common).
  let contentShared = 0;
  let contentAll = 0;
  for (const w of new Set([...a.wordSet, ...b.wordSet])) {
    if (idf.word(w) < idf.common) continue;
    contentAll++;
    if (a.wordSet.has(w) && b.wordSet.has(w)) contentShared++;
  }
  let numbersMismatched = 0;
  for (const n of a.numbers) if (!b.numbers.has(n)) numbersMismatched++;
  for (const n of b.numbers) if (!a.numbers.has(n)) numbersMismatched++;
  const na = a.words.length;
  const nb = b.words.length;
  const values: Record<FeatureName, number> = {
    words_min: Math.min(na, nb),
    words_max: Math.max(na, nb),
    words_diff: Math.abs(na - nb),
    chars_ratio: Math.min(a.chars, b.chars) / Math.max(a.chars, b.chars, 1),
    shared_words: shared,
    unshared_words: unshared,
    word_jaccard: shared / Math.max(1, shared + unshared),
    shared_idf: sharedIdf,
    unshared_idf: unsharedIdf,
    idf_overlap: sharedIdf / Math.max(1e-9, sharedIdf + unsharedIdf),
    max_unshared_idf: maxUnsharedIdf,
    rare_shared: rareShared,
    rare_unshared: rareUnshared,
    numbers_both: a.numbers.size > 0 && b.numbers.size > 0 ? 1 : 0,
    numbers_one_side: (a.numbers.size > 0) !== (b.numbers.size > 0) ? 1 : 0,
    numbers_mismatched: numbersMismatched,
    negation_one_side: a.negated !== b.negated ? 1 : 0,
    same_question_type: a.questionType === b.questionType ? 1 : 0,
    question_type_min: Math.min(a.questionType, b.questionType),
    question_type_max: Math.max(a.questionType, b.questionType),
    first_word_same: na > 0 && nb > 0 && a.words[0] === b.words[0] ? 1 : 0,
    last_word_same: na > 0 && nb > 0 && a.words[na - 1] === b.words[nb - 1] ? 1 : 0,
    word_tfidf_cosine: cosine(a.wordTfidf, b.wordTfidf),
    trigram_tfidf_cosine: cosine(a.trigramTfidf, b.trigramTfidf),
    unshared_words_min_side: Math.min(sides[0].count, sides[1].count),
    unshared_words_max_side: Math.max(sides[0].count, sides[1].count),
    unshared_idf_min_side: Math.min(sides[0].mass, sides[1].mass),
    unshared_idf_max_side: Math.max(sides[0].mass, sides[1].mass),
    content_jaccard: contentAll > 0 ? contentShared / contentAll : 1,
    bigram_jaccard: jaccard(a.bigrams, b.bigrams),
    lcs_ratio: longestCommonSubsequence(a.words.slice(0, MAX_ORDERED_WORDS), b.words.slice(0, MAX_ORDERED_WORDS)) / Math.max(1, Math.min(MAX_ORDERED_WORDS, Math.max(na, nb))),
    chars_diff: Math.abs(a.chars - b.chars),
  };
  return Float64Array.from(FEATURE_NAMES, (n) => values[n]);
}
