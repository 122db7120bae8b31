/**
 * An explanation a person reads: one plain sentence from the strongest evidence, and a name
 * for each of the verdict's inputs (the page shows these, never the raw feature names).
 */
import type { WordAlignment } from '../encoder/word-alignment.js';
import { isStopWord } from '../text/bm25-query.js';
import { words } from '../text/verdict-words.js';
import type { Reason } from '../verdict/verdict.js';
import type { STACK_INPUTS } from '../verdict/verdict.js';

/** What each input of the verdict's stack measures, in words. */
export const REASON_LABELS: Record<(typeof STACK_INPUTS)[number], string> = {
  energy: 'meaning (LSTM energy)',
  trees_logit: 'word evidence together (trees)',
  words_min: 'length of the shorter question',
  words_max: 'length of the longer question',
  words_diff: 'difference in length',
  chars_ratio: 'ratio of lengths in characters',
  shared_words: 'words in common',
  unshared_words: 'words only one side has',
  word_jaccard: 'overlap of the words',
  shared_idf: 'weight of the rare words in common',
  unshared_idf: 'weight of the words only one side has',
  idf_overlap: 'share of the rare-word weight in common',
  max_unshared_idf: 'rarest word only one side has',
  rare_shared: 'rare words in common',
  rare_unshared: 'rare words only one side has',
  numbers_both: 'numbers on both sides',
  numbers_one_side: 'a number on one side only',
  numbers_mismatched: 'numbers that differ',
  negation_one_side: 'negation on one side only',
  same_question_type: 'same question word',
  question_type_min: 'question word (first)',
  question_type_max: 'question word (second)',
  first_word_same: 'same first word',
  last_word_same: 'same last word',
  word_tfidf_cosine: 'shared words, weighted by rarity',
  trigram_tfidf_cosine: 'shared spelling (character trigrams)',
  unshared_words_min_side: 'extra words on the closer side',
  unshared_words_max_side: 'extra words on the farther side',
  unshared_idf_min_side: 'weight of the extra words (closer side)',
  unshared_idf_max_side: 'weight of the extra words (farther side)',
  content_jaccard: 'overlap of the content words',
  bigram_jaccard: 'overlap of word pairs',
  lcs_ratio: 'words in the same order',
  chars_diff: 'difference in characters',
  alignment_mean: 'words matched by meaning',
  alignment_min: 'worst-matched rare word',
  cross_attention_logit: 'word-by-word comparison',
};

export const reasonLabel = (feature: string): string => REASON_LABELS[feature as keyof typeof REASON_LABELS] ?? feature.replaceAll('_', ' ');

/** The least share of the similarity a pair of different words must carry to be named as a match. */
const MATCH_SHARE = 0.04;

const contentWords = (text: string) => [...new Set(words(text).filter((w) => !isStopWord(w)))];
const quoted = (ws: string[]) => ws.map((w) => `'${w}'`);
const list = (items: string[]) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

/**
 * One sentence that says why, from the words themselves: what the two share and which different
 * words the encoder matched ("Both ask about 'learn' and 'python'; 'fast' and 'quickly' match."),
 * or what differs ("Differs: 'java' vs 'python'.").
 */
export function summarize(a: string, b: string, verdict: { isDuplicate: boolean; rule?: 'identical-text'; alignment?: WordAlignment }): string {
  if (verdict.rule === 'identical-text') return 'The same question, once case and punctuation are set aside.';
  const wa = contentWords(a);
  const wb = contentWords(b);
  const shared = wa.filter((w) => wb.includes(w));
  const onlyA = wa.filter((w) => !wb.includes(w));
  const onlyB = wb.filter((w) => !wa.includes(w));
  // Pairs of different words the encoder lines up (synonyms, inflections), strongest first, each word once.
  const matched: { a: string; b: string }[] = [];
  for (const p of verdict.alignment?.pairs ?? []) {
    if (matched.length === 2 || p.a === p.b || p.share <= MATCH_SHARE || !onlyA.includes(p.a) || !onlyB.includes(p.b)) continue;
    if (!matched.some((m) => m.a === p.a || m.b === p.b)) matched.push(p);
  }
  if (verdict.isDuplicate) {
    const about = shared.length > 0 ? `Both ask about ${list(quoted(shared.slice(0, 4)))}` : 'Both ask the same thing in other words';
    const match = matched.length > 0 ? `; ${list(matched.map((p) => `'${p.a}' matches '${p.b}'`))}` : '';
    return `${about}${match}.`;
  }
  const unmatchedA = onlyA.filter((w) => !matched.some((p) => p.a === w));
  const unmatchedB = onlyB.filter((w) => !matched.some((p) => p.b === w));
  if (unmatchedA.length > 0 && unmatchedB.length > 0) return `Differs: ${list(quoted(unmatchedA.slice(0, 3)))} vs ${list(quoted(unmatchedB.slice(0, 3)))}.`;
  if (unmatchedA.length > 0) return `Differs: only the first asks about ${list(quoted(unmatchedA.slice(0, 3)))}.`;
  if (unmatchedB.length > 0) return `Differs: only the second asks about ${list(quoted(unmatchedB.slice(0, 3)))}.`;
  return 'The same words, but put together to ask something else.';
}

/** The reasons with the names people read. */
export const labelled = (reasons: Reason[]): (Reason & { label: string })[] => reasons.map((r) => ({ ...r, label: reasonLabel(r.feature) }));
