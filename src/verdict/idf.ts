import { charTrigrams, words } from '../text/verdict-words.js';

/** Document frequencies of words and character trigrams over a set of questions. */
export interface IdfJson {
  documents: number;
  words: Record<string, number>;
  trigrams: Record<string, number>;
}

/**
 * Inverse document frequency, idf(t) = ln((N + 1) / (df(t) + 1)) + 1 (scikit-learn's smoothed
 * form), from the training questions: a word never seen there gets the highest idf, as the
 * rarest evidence.
 */
export class Idf {
  private readonly words: Map<string, number>;
  private readonly trigrams: Map<string, number>;
  readonly documents: number;
  /** A word at least this rare (df <= 5) counts as a rare word. */
  readonly rare: number;
  /** A word more common than this (in over 2 % of the questions) counts as a stop word. */
  readonly common: number;

  constructor(json: IdfJson) {
    this.documents = json.documents;
    this.words = new Map(Object.entries(json.words));
    this.trigrams = new Map(Object.entries(json.trigrams));
    this.rare = this.fromDf(5);
    this.common = this.fromDf(this.documents * 0.02);
  }

  /** Counts the questions (each distinct text once); terms seen only once are left out to keep the table small. */
  static fit(questions: Iterable<string>): Idf {
    const w = new Map<string, number>();
    const t = new Map<string, number>();
    const seen = new Set<string>();
    for (const q of questions) {
      if (seen.has(q)) continue;
      seen.add(q);
      const ws = words(q);
      for (const x of new Set(ws)) w.set(x, (w.get(x) ?? 0) + 1);
      for (const x of new Set(charTrigrams(ws))) t.set(x, (t.get(x) ?? 0) + 1);
    }
    const keep = (m: Map<string, number>) => Object.fromEntries([...m].filter(([, n]) => n > 1).sort((a, b) => b[1] - a[1]));
    return new Idf({ documents: seen.size, words: keep(w), trigrams: keep(t) });
  }

  private fromDf(df: number): number {
    return Math.log((this.documents + 1) / (df + 1)) + 1;
  }

  word(w: string): number {
    return this.fromDf(this.words.get(w) ?? 1);
  }

  trigram(t: string): number {
    return this.fromDf(this.trigrams.get(t) ?? 1);
  }

  toJson(): IdfJson {
    return { documents: this.documents, words: Object.fromEntries(this.words), trigrams: Object.fromEntries(this.trigrams) };
  }
}
