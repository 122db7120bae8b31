// The duplicate check and its explanations; plain DOM, no dependencies. Similar questions while
// the title is typed come from the embeddable widget (/widget.js), as on a forum.
import { explanationView } from './explain.js';

const $ = (id) => document.getElementById(id);
const title = $('title');

/** A "Why?" disclosure: asks the API for the explanation when first opened. */
function whyButton(query, match) {
  const details = document.createElement('details');
  details.className = 'why';
  const summary = document.createElement('summary');
  summary.textContent = 'Why?';
  details.append(summary);
  details.addEventListener('toggle', async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = '1';
    const res = await fetch('/v1/similarity', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: query, b: match.text, explain: true }),
    });
    const body = await res.json();
    details.append(res.ok ? explanationView(body.explanation) : document.createTextNode(body.error?.message ?? 'error'));
  });
  return details;
}

function row(match, query) {
  const li = document.createElement('li');
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = match.text;
  const energy = document.createElement('span');
  energy.className = 'energy';
  energy.textContent = `energy ${match.energy.toFixed(3)} · p ${match.probability.toFixed(2)}`;
  li.append(text, energy);
  if (match.isDuplicate) {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = 'likely duplicate';
    li.append(badge);
  }
  li.append(whyButton(query, match));
  return li;
}

function show(list, matches, query) {
  list.replaceChildren(...matches.map((m) => row(m, query)));
  if (matches.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'No similar questions.';
    list.append(li);
  }
}

$('check').addEventListener('submit', async (event) => {
  event.preventDefault();
  const verdict = $('verdict');
  const text = $('question').value.trim() || title.value.trim();
  if (!text) {
    verdict.className = 'verdict';
    verdict.textContent = 'Write a question first.';
    return;
  }
  const res = await fetch('/v1/duplicates', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text, k: 5 }),
  });
  const body = await res.json();
  if (!res.ok) {
    verdict.className = 'verdict';
    verdict.textContent = body.error?.message ?? 'error';
    return;
  }
  verdict.className = body.isDuplicate ? 'verdict dup' : 'verdict ok';
  const rule = `a duplicate at p ≥ ${body.decision.threshold.toFixed(2)} (${body.decision.operatingPoint})`;
  verdict.textContent = body.isDuplicate ? `Likely a duplicate of an existing question: ${rule}.` : `No duplicate found (${rule}): go ahead and post it.`;
  show($('matches'), body.matches, text);
});

fetch('/healthz')
  .then((r) => r.json())
  .then((h) => ($('status').textContent = `${h.questions} questions indexed · model ${h.model} · ${h.encoder}`))
  .catch(() => {});
