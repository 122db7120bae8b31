// Doppel's "similar questions" widget: one classic script, no dependencies, no globals but
// window.Doppel. A forum page includes it with data-input="<selector>"; docs/integration.md.
(() => {
  // Only set while this script first runs; later (events, timers) it is null.
  const me = document.currentScript;
  const uid = 'doppel-' + Math.random().toString(36).slice(2, 8);
  let seq = 0;
  const warned = new Set();

  // Every colour, radius and font comes from a custom property, so a forum restyles the list
  // without fighting specificity; single-class selectors lose to the forum's own rules.
  const CSS = `
.doppel-list{position:absolute;z-index:var(--doppel-z,1000);box-sizing:border-box;margin:0;padding:4px 0;list-style:none;max-height:22em;overflow:auto;background:var(--doppel-bg,#fff);color:var(--doppel-fg,#1d2330);border:1px solid var(--doppel-border,#d0d5dd);border-radius:var(--doppel-radius,6px);box-shadow:var(--doppel-shadow,0 6px 16px rgba(0,0,0,.12));font:var(--doppel-font,inherit);text-align:left}
.doppel-list[hidden]{display:none}
.doppel-option{display:flex;flex-wrap:wrap;gap:.25em .6em;align-items:baseline;padding:.45em .75em;cursor:pointer}
.doppel-option:hover,.doppel-active{background:var(--doppel-active-bg,#eef2fb)}
.doppel-active{box-shadow:inset 3px 0 0 var(--doppel-accent,#2b59c3)}
.doppel-text{flex:1;color:inherit;text-decoration:none}
.doppel-active .doppel-text{color:var(--doppel-accent,#2b59c3)}
.doppel-score{color:var(--doppel-muted,#5f6b7a);font-size:.85em;font-variant-numeric:tabular-nums}
.doppel-badge{font-size:.75em;font-weight:700;white-space:nowrap;padding:.1em .55em;border-radius:999px;background:var(--doppel-badge-bg,#b3261e);color:var(--doppel-badge-fg,#fff)}
.doppel-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}`;

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    e.className = 'doppel-' + cls;
    if (text) e.textContent = text;
    return e;
  };
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

  // Only http(s) links are followed: a javascript: url in the store must never run in the forum's page.
  function safeUrl(url) {
    try {
      const u = url && new URL(url, location.href);
      return u && /^https?:$/.test(u.protocol) ? u.href : null;
    } catch {
      return null;
    }
  }

  function warn(why) {
    if (warned.has(why)) return;
    warned.add(why);
    console.warn('Doppel widget: ' + why);
  }

  function attach(input, options = {}) {
    if (!(input instanceof HTMLInputElement)) throw new TypeError('Doppel.attach needs an <input> element');
    const base = new URL(options.baseUrl || (me && me.src) || location.href, location.href);
    // A base given without its trailing slash still names that folder (/doppel means /doppel/).
    if (options.baseUrl && !base.pathname.endsWith('/')) base.pathname += '/';
    const o = { k: 5, minChars: 3, ...options, baseUrl: new URL('.', base).href };

    if (!document.getElementById('doppel-style')) {
      const style = el('style', 'style', CSS);
      style.id = 'doppel-style';
      // First in <head>, so that the page's own stylesheets win ties.
      document.head.prepend(style);
    }
    const id = `${uid}-${++seq}`;
    const list = el('ul', 'list');
    list.id = id;
    list.hidden = true;
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Similar questions');
    const live = el('div', 'sr');
    live.setAttribute('role', 'status');
    live.setAttribute('aria-live', 'polite');
    input.after(list, live);

    const ATTRS = { role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': id, autocomplete: 'off' };
    const before = {};
    for (const [name, value] of Object.entries(ATTRS)) {
      before[name] = input.getAttribute(name);
      input.setAttribute(name, value);
    }

    let client, timer, request, off;
    let matches = [];
    let active = -1;

    function setActive(i) {
      active = i;
      [...list.children].forEach((li, n) => {
        li.classList.toggle('doppel-active', n === i);
        li.setAttribute('aria-selected', String(n === i));
      });
      if (i < 0) return input.removeAttribute('aria-activedescendant');
      input.setAttribute('aria-activedescendant', list.children[i].id);
      list.children[i].scrollIntoView({ block: 'nearest' });
    }

    function open() {
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      // Measured against the list's own containing block, whatever positions the page uses.
      const s = list.style;
      s.top = s.left = '0';
      const a = input.getBoundingClientRect();
      const b = list.getBoundingClientRect();
      s.top = a.bottom - b.top + 2 + 'px';
      s.left = a.left - b.left + 'px';
      s.width = a.width + 'px';
    }

    function close(forget) {
      setActive(-1);
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      if (!forget) return;
      matches = [];
      list.replaceChildren();
      live.textContent = '';
    }

    function option(m, i) {
      const li = el('li', 'option');
      li.id = `${id}-${i}`;
      li.dataset.i = i;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      const url = safeUrl(m.url);
      const text = el(url ? 'a' : 'span', 'text', m.text);
      if (url) {
        text.href = url;
        // Focus stays in the input (aria-activedescendant); Tab must not walk the list.
        text.tabIndex = -1;
      }
      li.append(text);
      if (o.showScores) li.append(el('span', 'score', `energy ${m.energy.toFixed(3)} \u00b7 p ${m.probability.toFixed(2)}`));
      // The server's decision, never one of the widget's own.
      if (m.isDuplicate === true) li.append(el('span', 'badge', 'likely duplicate'));
      return li;
    }

    function show(found) {
      matches = found;
      list.replaceChildren(...found.map(option));
      active = -1;
      const dups = found.filter((m) => m.isDuplicate === true).length;
      live.textContent = found.length ? plural(found.length, 'similar question') + (dups ? `, ${plural(dups, 'likely duplicate')}` : '') : 'No similar questions';
      // An answer that lands after the reader left the field must not pop up over the page.
      found.length && document.activeElement === input ? open() : close();
    }

    async function ask(q) {
      const mine = (request = new AbortController());
      try {
        client ||= new (await import(new URL('client.js', o.baseUrl).href)).DoppelClient({ baseUrl: o.baseUrl, apiKey: o.key });
        const answer = await client.suggest(q, { k: o.k, category: o.category, operatingPoint: o.operatingPoint, signal: mine.signal });
        if (mine === request) show(answer.suggestions);
      } catch (e) {
        if (mine !== request || mine.signal.aborted) return;
        close(true);
        // A refused key or origin stays refused: asking again on every keystroke only loads the server.
        if (e.status === 401 || e.status === 403) off = true;
        warn(
          e.status
            ? `${o.baseUrl} answered ${e.status} ${e.code}: ${e.message}${off ? ' (no more requests from this page)' : ''}`
            : `cannot reach ${o.baseUrl} (${e.message}); a page on another origin must be allowed with doppel serve --cors-origin`,
        );
      }
    }

    function onInput() {
      clearTimeout(timer);
      // The answer for an older text must never replace the one for the newer text.
      request?.abort();
      request = undefined;
      const q = input.value.trim();
      if (off || q.length < o.minChars) return close(true);
      timer = setTimeout(ask, 150, q);
    }

    function choose(i) {
      const match = matches[i];
      close();
      const go = input.dispatchEvent(new CustomEvent('doppel:select', { bubbles: true, cancelable: true, detail: { match } }));
      const url = go && safeUrl(match.url);
      if (url) location.assign(url);
    }

    function onKey(e) {
      const n = matches.length;
      if (e.isComposing || !n) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (list.hidden) open();
        // Past either end the input itself is active again, as in the APG's combobox.
        setActive(e.key === 'ArrowDown' ? (active + 1 === n ? -1 : active + 1) : active < 0 ? n - 1 : active - 1);
      } else if (e.key === 'Escape' && !list.hidden) {
        e.preventDefault();
        close();
      } else if (e.key === 'Enter' && !list.hidden && active >= 0) {
        // Without an active option Enter is the page's (it submits the form).
        e.preventDefault();
        choose(active);
      }
    }

    const on = new AbortController();
    const opts = { signal: on.signal };
    input.addEventListener('input', onInput, opts);
    input.addEventListener('keydown', onKey, opts);
    input.addEventListener('blur', () => close(), opts);
    // Keeps the focus in the input, so that blur does not close the list before the click lands.
    list.addEventListener('mousedown', (e) => e.preventDefault(), opts);
    list.addEventListener(
      'click',
      (e) => {
        const li = e.target.closest('[role=option]');
        // A modified click (new tab, new window) is left to the browser's handling of the link.
        if (!li || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        choose(+li.dataset.i);
      },
      opts,
    );
    window.addEventListener('resize', () => list.hidden || open(), opts);

    return {
      destroy() {
        on.abort();
        clearTimeout(timer);
        request?.abort();
        request = undefined;
        list.remove();
        live.remove();
        for (const [name, value] of Object.entries(before)) value === null ? input.removeAttribute(name) : input.setAttribute(name, value);
        input.removeAttribute('aria-activedescendant');
      },
    };
  }

  window.Doppel = Object.assign(window.Doppel || {}, { attach });

  const d = me && me.dataset;
  if (!d || !d.input) return;
  const auto = () => {
    try {
      const input = document.querySelector(d.input);
      if (!input) return warn(`no element matches data-input="${d.input}"`);
      attach(input, {
        key: d.key,
        k: +(d.k ?? 5),
        minChars: +(d.minChars ?? 3),
        category: d.category,
        operatingPoint: d.operatingPoint,
        showScores: 'showScores' in d,
      });
    } catch (e) {
      warn(e.message);
    }
  };
  document.readyState === 'loading' ? document.addEventListener('DOMContentLoaded', auto, { once: true }) : auto();
})();
