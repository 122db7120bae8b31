// An explanation of a pair as the API gives it (POST /v1/similarity with explain: true): the
// plain-language summary, the word pairs that carry the similarity, the inputs that moved the
// verdict. Shared by the check page and the moderator page.

/** The encoder's words of one text, the aligned ones marked with their pair's number. */
function alignedWords(words, marks) {
  const p = document.createElement('p');
  p.className = 'aligned';
  words.forEach((w, i) => {
    const pair = marks.get(i);
    const el = document.createElement(pair === undefined ? 'span' : 'mark');
    el.textContent = w;
    if (pair !== undefined) el.className = `pair${pair}`;
    p.append(el, ' ');
  });
  return p;
}

export function explanationView(e) {
  const box = document.createElement('div');
  box.className = 'explain';
  const summary = document.createElement('p');
  summary.className = 'summary';
  summary.textContent = e.summary;
  box.append(summary);
  if (e.alignment) {
    const pairs = e.alignment.pairs.filter((x) => x.share > 0.02).slice(0, 5);
    const marksA = new Map();
    const marksB = new Map();
    pairs.forEach((x, n) => {
      if (!marksA.has(x.aIndex)) marksA.set(x.aIndex, n);
      if (!marksB.has(x.bIndex)) marksB.set(x.bIndex, n);
    });
    const title = document.createElement('h3');
    title.textContent = 'Words that carry the similarity';
    box.append(title, alignedWords(e.alignment.wordsA, marksA), alignedWords(e.alignment.wordsB, marksB));
  }
  if (e.reasons) {
    const title = document.createElement('h3');
    title.textContent = 'What moved the verdict';
    const list = document.createElement('ul');
    list.className = 'reasons';
    for (const r of e.reasons.slice(0, 5)) {
      const li = document.createElement('li');
      li.className = r.contribution >= 0 ? 'up' : 'down';
      li.textContent = `${r.contribution >= 0 ? '▲' : '▼'} ${r.label}`;
      list.append(li);
    }
    box.append(title, list);
  }
  return box;
}
