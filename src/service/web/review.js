// The moderator page: one queued pair at a time, decided with buttons or the keys d / n / s.
// Plain DOM, no dependencies; the admin key (when the server needs one) stays in this tab.
import { explanationView } from './explain.js';

const $ = (id) => document.getElementById(id);
const KEY = 'doppel-admin-key';
let items = [];
let page;
let busy = false;

async function api(path, init = {}) {
  const key = sessionStorage.getItem(KEY);
  const headers = { ...(init.body ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const res = await fetch(path, { ...init, headers });
  const body = await res.json();
  if (res.status === 401 || res.status === 403) {
    askForKey(body.error?.message);
    throw new Error(body.error?.message);
  }
  if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
  return body;
}

function askForKey(message) {
  $('pair-view').hidden = true;
  $('key-form').hidden = false;
  $('key-error').textContent = message ?? '';
  $('key').focus();
}

const percent = (x) => `${(100 * x).toFixed(1)} %`;

function showEffect() {
  const { decided, agreed, model } = page;
  const answered = decided.duplicate + decided.different;
  const lines = [`${answered + decided.skip} decided: ${decided.duplicate} duplicate, ${decided.different} different, ${decided.skip} skipped.`];
  if (answered > 0) lines.push(`The model had sided with you on ${agreed} of ${answered} (${percent(agreed / answered)}).`);
  if (model.refit) {
    const { before, after, pairs } = model.refit;
    lines.push(`The serving model was refit on ${pairs} reviewed pairs: accuracy on them ${percent(before.accuracy)} → ${percent(after.accuracy)} (precision ${percent(before.precision)} → ${percent(after.precision)}, recall ${percent(before.recall)} → ${percent(after.recall)}; cross-validated).`);
  } else {
    lines.push(`The serving model (${model.id}) has not been refit on reviews yet.`);
  }
  $('effect').replaceChildren(...lines.map((t) => Object.assign(document.createElement('li'), { textContent: t })));
  $('left').textContent = `${page.pending} left to review.`;
}

async function load() {
  page = await api('/v1/review?limit=20');
  items = page.items;
  $('key-form').hidden = true;
  showEffect();
  show();
}

function side(el, s) {
  el.textContent = s.text;
  if (s.id) el.append(Object.assign(document.createElement('cite'), { textContent: `stored as ${s.id}` }));
}

function show() {
  const item = items[0];
  $('pair-view').hidden = !item;
  $('empty').hidden = Boolean(item);
  if (!item) return;
  side($('side-a'), item.a);
  side($('side-b'), item.b);
  $('model-says').textContent = `model: p ${item.probability.toFixed(2)}${item.copies > 1 ? ` · asked ${item.copies} times` : ''}`;
  const why = $('why');
  why.replaceChildren();
  api('/v1/similarity', { method: 'POST', body: JSON.stringify({ a: item.a.text, b: item.b.text, explain: true }) })
    .then((r) => {
      if (items[0] === item) why.replaceChildren(explanationView(r.explanation));
    })
    .catch(() => {});
  $('duplicate').focus();
}

async function decide(decision) {
  const item = items[0];
  if (!item || busy) return;
  busy = true;
  try {
    await api(`/v1/review/${item.id}`, { method: 'POST', body: JSON.stringify({ decision }) }).catch((err) => {
      // Decided already (by another moderator): move on.
      if (!/decided already/.test(err.message)) throw err;
    });
    // The queue afresh: the counts, and pairs other moderators or new checks changed meanwhile.
    await load();
  } catch (err) {
    $('left').textContent = err.message;
  } finally {
    busy = false;
  }
}

for (const decision of ['duplicate', 'different', 'skip']) $(decision).addEventListener('click', () => decide(decision));
const SHORTCUTS = { d: 'duplicate', n: 'different', s: 'skip' };
document.addEventListener('keydown', (event) => {
  if (event.target instanceof HTMLInputElement || event.ctrlKey || event.metaKey || event.altKey) return;
  const decision = SHORTCUTS[event.key.toLowerCase()];
  if (decision) {
    event.preventDefault();
    decide(decision);
  }
});
$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $('key').value.trim());
  load().catch(() => {});
});
load().catch(() => {});
