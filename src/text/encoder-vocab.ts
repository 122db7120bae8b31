import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { SPECIAL_TOKENS, TOKENIZER_CONFIG, tokenizerJson } from './encoder-tokenizer-spec.js';

export interface VocabOptions {
  /** Most frequent corpus words kept as whole tokens. */
  maxWords: number;
  /** Minimum count of a corpus word. */
  minCount: number;
  /** Words to add after the corpus words (e.g. the most frequent words of the pretrained vectors). */
  extraWords?: Iterable<string>;
  maxExtraWords?: number;
}

/**
 * Builds a WordPiece tokenizer.json whose vocabulary is mostly whole words (so that they line up
 * with pretrained word vectors), with every seen character and its `##` continuation as a
 * fallback so that no word becomes [UNK].
 */
export function buildTokenizerJson(texts: Iterable<string>, options: VocabOptions): object {
  // The same normaliser and pre-tokeniser as the final tokenizer; the vocabulary does not matter here.
  const splitter = new HfTokenizer(tokenizerJson(Object.values(SPECIAL_TOKENS)), TOKENIZER_CONFIG);
  const counts = new Map<string, number>();
  for (const text of texts) {
    const normalized = splitter.normalizer ? splitter.normalizer.normalize(text) : text;
    const words = splitter.pre_tokenizer ? splitter.pre_tokenizer.pre_tokenize(normalized) : normalized.split(/\s+/);
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const vocab: string[] = [...Object.values(SPECIAL_TOKENS)];
  const seen = new Set(vocab);
  const add = (token: string) => {
    if (!seen.has(token)) {
      seen.add(token);
      vocab.push(token);
    }
  };
  const chars = new Set<string>();
  for (const w of counts.keys()) for (const c of w) chars.add(c);
  [...counts.entries()]
    .filter(([, n]) => n >= options.minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.maxWords)
    .forEach(([w]) => add(w));
  let extra = 0;
  for (const w of options.extraWords ?? []) {
    if (extra >= (options.maxExtraWords ?? Infinity)) break;
    if (!seen.has(w) && /^[\p{Ll}\p{N}]+$/u.test(w)) {
      add(w);
      extra++;
    }
  }
  for (const c of [...chars].sort()) {
    add(c);
    add('##' + c);
  }
  return tokenizerJson(vocab);
}
