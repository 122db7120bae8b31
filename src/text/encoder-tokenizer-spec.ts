/**
 * The pipeline of Doppel's WordPiece tokenizer.json. The Replace steps undo the CoreNLP-style
 * tokenization found in part of the Quora data (`does n't`, `-LRB-`, ``` `` ```), so raw and
 * pre-tokenized text reach the same tokens; the BERT normalizer and pre-tokenizer then lower-case,
 * strip accents and split punctuation.
 */
const CORENLP_UNDO: [string, string][] = [
  ['-LRB-', '('],
  ['-RRB-', ')'],
  ['-LSB-', '['],
  ['-RSB-', ']'],
  ['``', '"'],
  ["''", '"'],
  [" n't", "n't"],
  [" N'T", "N'T"],
  [" 's ", "'s "],
  [" 're ", "'re "],
  [" 've ", "'ve "],
  [" 'll ", "'ll "],
  [" 'd ", "'d "],
  [" 'm ", "'m "],
];

export const SPECIAL_TOKENS = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' } as const;

export function normalizerSpec(): object {
  return {
    type: 'Sequence',
    normalizers: [
      ...CORENLP_UNDO.map(([from, to]) => ({ type: 'Replace', pattern: { String: from }, content: to })),
      { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: true },
    ],
  };
}

/** A complete tokenizer.json (Hugging Face format) for a WordPiece vocabulary. */
export function tokenizerJson(vocab: string[]): object {
  const ids: Record<string, number> = {};
  vocab.forEach((token, i) => (ids[token] = i));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.values(SPECIAL_TOKENS).map((content) => ({
      id: ids[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: normalizerSpec(),
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: SPECIAL_TOKENS.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
}

export const TOKENIZER_CONFIG = {
  model_max_length: 512,
  do_lower_case: true,
  pad_token: SPECIAL_TOKENS.pad,
  unk_token: SPECIAL_TOKENS.unk,
  cls_token: SPECIAL_TOKENS.cls,
  sep_token: SPECIAL_TOKENS.sep,
  mask_token: SPECIAL_TOKENS.mask,
  tokenizer_class: 'BertTokenizer',
};
