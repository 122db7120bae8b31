import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { embeddingMatrix, type WordVectors } from '../src/training/glove.js';
import { buildTokenizerJson } from '../src/text/encoder-vocab.js';
import { Tokenizer } from '../src/text/encoder-tokenizer.js';
import { loadModelFiles } from '../src/model/model-dir.js';

describe('tokenizer', () => {
  const corpus = ["What's the best way to learn Python?", "Why doesn't my code work?", 'How do I cook (brown) rice?'];
  const tokenizer = Tokenizer.fromJson(buildTokenizerJson(corpus, { maxWords: 100, minCount: 1 }));

  test('raw and CoreNLP-tokenized text map to the same ids', () => {
    const pairs: [string, string][] = [
      ["What's the best way to learn Python?", "What 's the best way to learn Python ?"],
      ["Why doesn't my code work?", "Why does n't my code work ?"],
      ['How do I cook (brown) rice?', 'How do I cook -LRB- brown -RRB- rice ?'],
      ['Say "hi"', 'Say ``hi\'\''],
    ];
    for (const [raw, pre] of pairs) assert.deepEqual(tokenizer.encode(pre), tokenizer.encode(raw), `${raw} vs ${pre}`);
  });

  test('whole words are single tokens; unknown words fall back to pieces, not [UNK]', () => {
    assert.deepEqual(tokenizer.tokenize('learn Python'), ['learn', 'python']);
    const pieces = tokenizer.tokenize('pythonic');
    assert.ok(pieces.length > 1 && !pieces.includes('[UNK]'), pieces.join(' '));
  });

  test('batches are right-padded with the pad id and truncated to maxLength', () => {
    const b = tokenizer.encodeBatch(['learn python', 'what is the best way to learn python'], 4);
    assert.equal(b.length, 4);
    assert.deepEqual(Array.from(b.lengths), [2, 4]);
    assert.equal(b.ids[2], tokenizer.padId);
  });

  test('tokens() lists the vocabulary in id order, numbers included, so pretrained rows line up', () => {
    // Integer-like keys ("2017", "3") come first in a JS object's key order, whatever their id.
    const withNumbers = Tokenizer.fromJson(buildTokenizerJson(['Best laptop in 2017 under 3 lakhs?', 'Best laptop in 2017?'], { maxWords: 100, minCount: 1 }));
    const vocab = (withNumbers.json as { model: { vocab: Record<string, number> } }).model.vocab;
    assert.notDeepEqual(Object.keys(vocab), withNumbers.tokens(), 'the test needs a vocabulary whose key order is not its id order');
    const tokens = withNumbers.tokens();
    assert.equal(tokens.length, withNumbers.vocabSize);
    tokens.forEach((token, id) => assert.equal(vocab[token], id));
    // Each embedding row holds the vector of the token with that id.
    const words = ['best', 'laptop', '2017', '3', 'lakhs'];
    const vectors: WordVectors = { dim: 2, words, get: (w) => (words.includes(w) ? [words.indexOf(w) + 1, -(words.indexOf(w) + 1)] : undefined) };
    const { values } = embeddingMatrix(tokens, vectors, 2, 1);
    for (const w of words) {
      const id = withNumbers.encode(w)[0];
      assert.equal(tokens[id], w);
      assert.deepEqual(Array.from(values.subarray(id * 2, id * 2 + 2)), [words.indexOf(w) + 1, -(words.indexOf(w) + 1)], w);
    }
  });

  test('the bundled model carries its own tokenizer.json and loads offline', async () => {
    const files = await loadModelFiles();
    assert.equal(files.tokenizer.vocabSize, files.config.vocabSize);
    assert.ok(files.tokenizer.encode('How do I learn Python?').length > 0);
  });
});
