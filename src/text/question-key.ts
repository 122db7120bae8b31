/**
 * When two question texts count as the same question: one normalisation for the cluster split of
 * training pairs, transitive augmentation, the retrieval task builder and the exact-duplicate
 * groups of dedup.
 */

/**
 * Lower-cased letters and digits, every other run of characters folded into one space: the key
 * under which two spellings count as the same question. A text with no letter or digit is its
 * own key, so that two different strings of punctuation are never taken for one question.
 */
export function questionKey(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim() || text;
}

/** 52-bit hash of a string (two FNV-1a lanes): exact-duplicate keys without keeping the strings. */
export function hash52(s: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0) * 0x100000 + ((h2 >>> 0) & 0xfffff);
}

/** questionKey as a number (hash52 of it), for counting exact duplicates in files of millions. */
export function questionHash(text: string): number {
  return hash52(questionKey(text));
}
