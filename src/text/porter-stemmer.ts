/**
 * The Porter (1980) stemmer as SQLite's FTS5 `porter` tokenizer applies it (the reference C
 * version, with its "bli" -> "ble" and "logi" -> "log" departures), for BM25's analyzer: the
 * in-memory index makes the same terms as FTS5, the engine the benchmarks compare it with.
 * test/lexical.test.ts checks it against FTS5 itself.
 */

const isVowelAt = (w: string, i: number): boolean => {
  const c = w[i];
  if (c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u') return true;
  return c === 'y' && i > 0 && !isVowelAt(w, i - 1);
};

/** Porter's m: the number of vowel-consonant sequences in w[0, end). */
function measure(w: string, end: number): number {
  let m = 0;
  let i = 0;
  while (i < end && !isVowelAt(w, i)) i++;
  while (i < end) {
    while (i < end && isVowelAt(w, i)) i++;
    if (i >= end) break;
    m++;
    while (i < end && !isVowelAt(w, i)) i++;
  }
  return m;
}

const hasVowel = (w: string, end: number): boolean => {
  for (let i = 0; i < end; i++) if (isVowelAt(w, i)) return true;
  return false;
};

const doubleConsonant = (w: string, i: number) => i >= 1 && w[i] === w[i - 1] && !isVowelAt(w, i);

/** consonant-vowel-consonant ending at i, the last not w, x or y (e.g. "hop", not "snow"). */
const cvc = (w: string, i: number) => i >= 2 && !isVowelAt(w, i) && isVowelAt(w, i - 1) && !isVowelAt(w, i - 2) && !'wxy'.includes(w[i]);

/** Replaces `suffix` by `by` when the stem before it has m > min; undefined when the suffix is absent. */
function replaceIf(w: string, suffix: string, by: string, min: number): string | undefined {
  if (!w.endsWith(suffix)) return undefined;
  const stem = w.length - suffix.length;
  return measure(w, stem) > min ? w.slice(0, stem) + by : w;
}

/** The first of `rules` whose suffix the word has decides (whether or not its condition holds). */
function firstRule(w: string, rules: readonly (readonly [string, string])[], min: number): string {
  for (const [suffix, by] of rules) {
    const r = replaceIf(w, suffix, by, min);
    if (r !== undefined) return r;
  }
  return w;
}

function step1ab(w: string): string {
  if (w.endsWith('s')) {
    // As in FTS5, the suffix alone is no plural ("ies" stays "ie").
    if (w.endsWith('sses') && w.length > 4) w = w.slice(0, -2);
    else if (w.endsWith('ies') && w.length > 3) w = w.slice(0, -2);
    else if (w[w.length - 2] !== 's') w = w.slice(0, -1);
  }
  if (w.endsWith('eed')) return measure(w, w.length - 3) > 0 ? w.slice(0, -1) : w;
  const suffix = w.endsWith('ed') ? 2 : w.endsWith('ing') ? 3 : 0;
  if (suffix === 0 || !hasVowel(w, w.length - suffix)) return w;
  w = w.slice(0, -suffix);
  if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) return w + 'e';
  const last = w.length - 1;
  if (doubleConsonant(w, last)) return 'lsz'.includes(w[last]) ? w : w.slice(0, -1);
  if (measure(w, w.length) === 1 && cvc(w, last)) return w + 'e';
  return w;
}

const step1c = (w: string) => (w.endsWith('y') && hasVowel(w, w.length - 1) ? w.slice(0, -1) + 'i' : w);

const STEP2: readonly (readonly [string, string])[] = [
  ['ational', 'ate'], ['tional', 'tion'], ['enci', 'ence'], ['anci', 'ance'], ['izer', 'ize'], ['bli', 'ble'], ['alli', 'al'],
  ['entli', 'ent'], ['eli', 'e'], ['ousli', 'ous'], ['ization', 'ize'], ['ation', 'ate'], ['ator', 'ate'], ['alism', 'al'],
  ['iveness', 'ive'], ['fulness', 'ful'], ['ousness', 'ous'], ['aliti', 'al'], ['iviti', 'ive'], ['biliti', 'ble'], ['logi', 'log'],
];
const STEP3: readonly (readonly [string, string])[] = [
  ['icate', 'ic'], ['ative', ''], ['alize', 'al'], ['iciti', 'ic'], ['ical', 'ic'], ['ful', ''], ['ness', ''],
];
const STEP4 = ['al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'ion', 'ou', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize'];

/**
 * The reference implementation picks the rule by the word's penultimate letter, so among suffixes
 * that share it the longest listed first wins ("ement" before "ment" before "ent").
 */
function byPenultimate(w: string, rules: readonly (readonly [string, string])[], min: number): string {
  const key = w[w.length - 2];
  return firstRule(w, rules.filter(([s]) => s[s.length - 2] === key), min);
}

function step4(w: string): string {
  const key = w[w.length - 2];
  for (const suffix of STEP4) {
    if (suffix[suffix.length - 2] !== key || !w.endsWith(suffix)) continue;
    const stem = w.length - suffix.length;
    if (suffix === 'ion' && !(stem > 0 && (w[stem - 1] === 's' || w[stem - 1] === 't'))) continue;
    return measure(w, stem) > 1 ? w.slice(0, stem) : w;
  }
  return w;
}

function step5(w: string): string {
  if (w.endsWith('e')) {
    const m = measure(w, w.length - 1);
    if (m > 1 || (m === 1 && !cvc(w, w.length - 2))) w = w.slice(0, -1);
  }
  if (w.endsWith('l') && doubleConsonant(w, w.length - 1) && measure(w, w.length) > 1) w = w.slice(0, -1);
  return w;
}

/** FTS5 leaves tokens under 3 or over 64 bytes as they are. */
export function porterStem(word: string): string {
  if (word.length < 3 || word.length > 64) return word;
  const w = byPenultimate(step1c(step1ab(word)), STEP2, 0);
  return step5(step4(firstRule(w, STEP3, 0)));
}
