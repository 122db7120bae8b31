/**
 * The words of the indexed documents, as typed (folded, not stemmed), with how many documents
 * hold each, kept sorted for prefix look-ups. Prefix expansion and typo correction read it.
 * New words wait in a small unsorted side list that is merged in once it grows, so an add
 * never re-sorts the whole vocabulary.
 */
const MERGE_AT = 1024;

export class Vocabulary {
  /** Each word ever counted, by a number of its own (the bigram counts key pairs by them). */
  private readonly ids = new Map<string, number>();
  private df = new Int32Array(1024);
  private sorted: string[] = [];
  private pending: string[] = [];
  /** The largest frequency any word has had: no word is more frequent than this. */
  maxFrequency = 0;
  /** Documents whose words are counted. */
  documents = 0;
  /** Bumped by every change, so that what is derived from the vocabulary knows when to forget. */
  version = 0;

  frequency(word: string): number {
    const id = this.ids.get(word);
    return id === undefined ? 0 : this.df[id];
  }

  /** The word's number; undefined for a word never counted. */
  id(word: string): number | undefined {
    return this.ids.get(word);
  }

  /** Words ever counted (those since gone from every document too). */
  get size(): number {
    return this.ids.size;
  }

  /** Counts one document's distinct words. */
  add(words: Iterable<string>): void {
    this.documents++;
    for (const w of words) {
      let id = this.ids.get(w);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(w, id);
        this.pending.push(w);
        if (id === this.df.length) {
          const grown = new Int32Array(this.df.length * 2);
          grown.set(this.df);
          this.df = grown;
        }
      }
      this.maxFrequency = Math.max(this.maxFrequency, ++this.df[id]);
    }
    this.version++;
    if (this.pending.length >= MERGE_AT) this.merge();
  }

  /** Words no longer in any document stay listed with frequency 0 (cheaper than re-sorting). */
  remove(words: Iterable<string>): void {
    this.documents--;
    for (const w of words) {
      const id = this.ids.get(w);
      if (id === undefined || this.df[id] === 0) continue;
      this.df[id]--;
    }
    this.version++;
  }

  private merge(): void {
    this.sorted = [...this.sorted, ...this.pending].sort();
    this.pending = [];
  }

  private lowerBound(prefix: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether some word in a document starts with `prefix`. */
  hasPrefix(prefix: string): boolean {
    const at = this.lowerBound(prefix);
    for (let i = at; i < this.sorted.length && this.sorted[i].startsWith(prefix); i++) if (this.frequency(this.sorted[i]) > 0) return true;
    return this.pending.some((w) => w.startsWith(prefix) && this.frequency(w) > 0);
  }

  /** Every word in some document that starts with `prefix`. */
  withPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (let i = this.lowerBound(prefix); i < this.sorted.length && this.sorted[i].startsWith(prefix); i++) out.push(this.sorted[i]);
    for (const w of this.pending) if (w.startsWith(prefix)) out.push(w);
    return out.filter((w) => this.frequency(w) > 0);
  }
}
