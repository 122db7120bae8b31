// Search-as-you-type and the duplicate check; plain DOM, no dependencies.
const $ = (id) => document.getElementById(id);
const title = $('title');
const suggestions = $('suggestions');
let timer;
let latest = 0;

function row(match) {
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
  return li;
}

function show(list, matches, emptyText) {
  list.replaceChildren(...matches.map(row));
  if (matches.length === 0 && emptyText) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = emptyText;
    list.append(li);
  }
}

async function suggest() {
  const q = title.value;
  const ticket = ++latest;
  if (q.trim().length < 2) return show(suggestions, []);
  const res = await fetch(`/v1/suggest?k=5&q=${encodeURIComponent(q)}`);
  if (ticket !== latest) return; // a newer keystroke has already asked
  if (!res.ok) return show(suggestions, [], (await res.json()).error?.message ?? 'error');
  show(suggestions, (await res.json()).suggestions, 'No similar questions yet.');
}

title.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(suggest, 120);
});

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
  verdict.textContent = body.isDuplicate ? 'Likely a duplicate of an existing question.' : 'No duplicate found: go ahead and post it.';
  show($('matches'), body.matches, 'No similar questions.');
});

fetch('/healthz')
  .then((r) => r.json())
  .then((h) => ($('status').textContent = `${h.questions} questions indexed · model ${h.model} · ${h.encoder}`))
  .catch(() => {});
