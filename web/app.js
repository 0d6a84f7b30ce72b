// SPDX-License-Identifier: MIT
// The self-diagnosis page. Everything a probed host sent is shown with textContent, never as
// markup; this file never assigns innerHTML. Served under a CSP without inline script.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    lang: 'en', strings: null, who: null, advice: {}, id: null, token: null,
    checks: [], results: {}, source: null, poll: null, status: null, doc: null,
  };

  function t(key, vars) {
    const table = (state.strings && state.strings[state.lang]) || {};
    let s = table[key] || (state.strings && state.strings.en[key]) || key;
    if (vars) {
      for (const k of Object.keys(vars)) s = s.split('{' + k + '}').join(String(vars[k]));
    }
    return s;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function show(id, on) { $(id).hidden = !on; }

  async function getJSON(url) {
    const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    return { status: r.status, body: body, headers: r.headers };
  }

  // ---------------------------------------------------------------------------------------
  // Language.

  function applyLang() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll('[data-i18n]').forEach((n) => {
      n.textContent = t(n.getAttribute('data-i18n'));
    });
    document.title = t('title');
    const sw = $('lang-switch');
    sw.textContent = t('switch_to');
    sw.setAttribute('aria-label', t('switch_label'));
    sw.lang = state.lang === 'ja' ? 'en' : 'ja';
    renderPlan();
    renderWho();
    renderRun();
  }

  async function loadAdvice() {
    if (state.advice[state.lang]) return;
    const r = await getJSON('/api/advice?lang=' + state.lang);
    state.advice[state.lang] = (r.status === 200 && r.body && r.body.advice) || {};
  }

  async function switchLang() {
    state.lang = state.lang === 'ja' ? 'en' : 'ja';
    try { localStorage.setItem('exposure-lang', state.lang); } catch (e) { /* private mode */ }
    await loadAdvice();
    applyLang();
  }

  // ---------------------------------------------------------------------------------------
  // Who am I, and what will be probed.

  function checkDef(name) {
    return state.checks.find((c) => c.check === name) || null;
  }

  function renderPlan() {
    const body = $('plan-body');
    body.replaceChildren();
    for (const c of state.checks) {
      const tr = el('tr');
      tr.appendChild(el('td', null, c.label[state.lang] || c.label.en));
      tr.appendChild(el('td', 'num', c.ports));
      body.appendChild(tr);
    }
  }

  function renderWho() {
    const w = state.who;
    if (!w) return;
    $('address').textContent = w.address;
    $('address-class').textContent = '(' + w.family + ')';
    $('probe-source').textContent = w.probe_source;
    if (!w.may_diagnose) {
      $('refused-text').textContent = state.lang === 'ja' ? w.message_ja : w.message;
      show('refused', true);
      show('start-form', false);
    } else {
      show('refused', false);
      show('start-form', true);
    }
  }

  async function whoami() {
    const r = await getJSON('/api/whoami');
    if (r.status !== 200 || !r.body) throw new Error('whoami ' + r.status);
    state.who = r.body;
    state.checks = r.body.checks || [];
  }

  // ---------------------------------------------------------------------------------------
  // Starting a diagnosis.

  async function start(ev) {
    ev.preventDefault();
    const err = $('start-error');
    err.hidden = true;
    if (!$('consent').checked) return;
    $('start').disabled = true;
    let r;
    try {
      r = await fetch('/api/diagnoses', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.who.csrf_token },
        body: JSON.stringify({ lang: state.lang }),
      });
    } catch (e) {
      err.textContent = t('err_generic', { code: 'network' });
      err.hidden = false;
      $('start').disabled = false;
      return;
    }
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (r.status === 202 && body) {
      try { localStorage.setItem('exposure-token-' + body.id, body.delete_token); } catch (e) { /* */ }
      history.pushState({ id: body.id }, '', body.links.page);
      $('consent').checked = false;
      openResult(body.id);
      return;
    }
    const s = r.headers.get('Retry-After') || '?';
    let msg = t('err_generic', { code: r.status });
    if (r.status === 429 && body && body.reason === 'one-at-a-time') {
      msg = t('err_one');
      if (body.active) {
        history.pushState({ id: body.active }, '', body.links.page);
        openResult(body.active);
      }
    } else if (r.status === 429 && body && body.reason === 'rate') {
      msg = t('err_rate', { s: s });
    } else if (r.status === 429) {
      msg = t('err_busy', { s: s });
    } else if (r.status === 503 && body && body.reason === 'store') {
      msg = t('err_store', { s: s });
    } else if (r.status === 403 && body && (body.reason === 'csrf' || body.reason === 'origin')) {
      await whoami();
      msg = t('err_csrf');
    } else if (r.status === 403 && body) {
      msg = state.lang === 'ja' ? body.message_ja : body.message;
    }
    err.textContent = msg;
    err.hidden = false;
    $('start').disabled = !$('consent').checked;
  }

  // ---------------------------------------------------------------------------------------
  // Following and showing a diagnosis.

  function stopFollowing() {
    if (state.source) { state.source.close(); state.source = null; }
    if (state.poll) { clearTimeout(state.poll); state.poll = null; }
  }

  function openResult(id) {
    stopFollowing();
    state.id = id;
    state.results = {};
    state.status = 'queued';
    state.doc = null;
    try { state.token = localStorage.getItem('exposure-token-' + id); } catch (e) { state.token = null; }
    show('intro', false);
    show('deleted', false);
    show('run', true);
    renderRun();
    follow();
  }

  // A diagnosis that will not change any more. 'failed': it ran, but the service could not
  // store its result, so it is never shown as done (a reload would not find it).
  function ended(s) {
    return s === 'done' || s === 'interrupted' || s === 'failed';
  }

  function follow() {
    const id = state.id;
    if (window.EventSource) {
      const es = new EventSource('/api/diagnoses/' + id + '/events');
      state.source = es;
      es.addEventListener('status', (e) => {
        const d = JSON.parse(e.data);
        state.status = d.status;
        renderRun();
      });
      es.addEventListener('check', (e) => {
        const d = JSON.parse(e.data);
        state.results[d.check.check] = d.check;
        if (state.status === 'queued') state.status = 'running';
        renderRun();
      });
      es.addEventListener('done', () => { es.close(); state.source = null; refresh(); });
      es.addEventListener('deleted', () => { es.close(); state.source = null; showDeleted(); });
      es.onerror = () => {
        // Fall back to polling (proxies that buffer, old browsers, a restart).
        es.close();
        state.source = null;
        if (!ended(state.status)) refresh();
      };
      refresh(true);
    } else {
      refresh();
    }
  }

  async function refresh(once) {
    if (state.id === null) return;
    const id = state.id;
    const r = await getJSON('/api/diagnoses/' + id);
    if (id !== state.id) return;
    if (r.status === 404) {
      state.status = 'not_found';
      renderRun();
      return;
    }
    if (r.status === 200 && r.body) {
      const d = r.body;
      state.status = d.status;
      for (const c of d.checks || []) state.results[c.check] = c;
      if (d.status === 'done') {
        state.doc = d.result;
        state.risk = d.risk;
        stopFollowing();
      }
      renderRun();
      if (ended(d.status)) return;
    }
    if (!once && !state.source) state.poll = setTimeout(() => refresh(), 1000);
  }

  function stateWords(s) {
    return t('state_' + (s || 'pending'));
  }

  // Show what answered: the service and every short text field the probe reported, as text.
  function answersBlock(c) {
    const box = el('div', 'answers');
    const lines = [];
    if (c.service) lines.push(c.service);
    // Flatten details two levels deep (e.g. "ssh.banner: ..."), skipping the per-port list.
    const walk = (obj, prefix, depth) => {
      for (const k of Object.keys(obj)) {
        if (lines.length >= 8) return;
        const v = obj[k];
        if (k === 'ports' && Array.isArray(v)) continue;
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
          lines.push(prefix + k + ': ' + String(v));
        } else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
          lines.push(prefix + k + ': ' + v.join(', '));
        } else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 2) {
          walk(v, prefix + k + '.', depth + 1);
        }
      }
    };
    const det = c.details;
    if (det && typeof det === 'object' && !Array.isArray(det)) walk(det, '', 1);
    if (c.state !== 'open') return null;
    box.appendChild(el('span', 'label', t('answers') + ' '));
    if (lines.length === 0) {
      box.appendChild(el('span', null, t('nothing_answers')));
    } else {
      const pre = el('pre', 'banner');
      pre.textContent = lines.join('\n');
      box.appendChild(pre);
    }
    return box;
  }

  function findingBlock(f) {
    // A question the check could not answer (confidence unknown): "Not known" in words, never
    // its severity as if it were so; then its reason and the advice for an undecided check.
    const notKnown = f.confidence === 'unknown';
    const cls = notKnown ? 'not-known' : 'sev-' + f.severity;
    const li = el('li', 'finding ' + cls);
    const all = state.advice[state.lang] || {};
    const title = all[f.id];
    const adv = notKnown ? all['check-unknown'] : title;
    const head = el('p', 'finding-head');
    head.appendChild(el('span', 'badge ' + cls, notKnown ? t('not_known') : t('severity_' + f.severity)));
    head.appendChild(document.createTextNode(' '));
    head.appendChild(el('strong', null, title ? title.title : f.id));
    head.appendChild(el('span', 'muted', ' (' + t('confidence_' + f.confidence) + ')'));
    li.appendChild(head);
    if (notKnown) li.appendChild(el('p', null, t('not_known_meaning')));
    if (f.reason) li.appendChild(el('p', 'muted', f.reason));
    if (adv) {
      li.appendChild(el('p', null, adv.meaning));
      if (adv.actions && adv.actions.length) {
        const first = el('p', 'first-step');
        first.appendChild(el('strong', null, t('first_step') + ' '));
        first.appendChild(document.createTextNode(adv.actions[0].text));
        li.appendChild(first);
      }
      const det = el('details');
      det.appendChild(el('summary', null, t('finding_more')));
      const ol = el('ol');
      for (const a of adv.actions || []) {
        const item = el('li');
        item.appendChild(el('span', 'platform', t('platform_' + a.platform) + ': '));
        item.appendChild(document.createTextNode(a.text));
        if (a.command) item.appendChild(el('code', 'cmd', a.command));
        ol.appendChild(item);
      }
      det.appendChild(ol);
      li.appendChild(det);
    }
    return li;
  }

  function renderRow(def, c) {
    const li = el('li', 'row state-' + (c ? c.state : 'pending'));
    li.setAttribute('data-check', def.check);
    const head = el('div', 'row-head');
    head.appendChild(el('span', 'row-label', def.label[state.lang] || def.label.en));
    head.appendChild(el('span', 'row-ports', t('port') + ' ' + (c && c.port ? c.port : def.ports)));
    head.appendChild(el('span', 'row-state', stateWords(c ? c.state : null)));
    li.appendChild(head);
    if (!c) return li;
    if (c.state === 'open') li.appendChild(el('p', null, def.open[state.lang] || def.open.en));
    const ans = answersBlock(c);
    if (ans) li.appendChild(ans);
    if (c.findings && c.findings.length) {
      const ul = el('ul', 'findings');
      for (const f of c.findings) ul.appendChild(findingBlock(f));
      li.appendChild(ul);
    }
    return li;
  }

  function renderRun() {
    if (state.id === null || $('run').hidden) return;
    const done = Object.keys(state.results).length;
    const line = $('status-line');
    const st = state.status || 'queued';
    line.textContent = t('status_' + st, { done: done, total: state.checks.length });
    const sum = $('summary');
    if (st === 'done' && state.risk) {
      // A check that could not run is never shown as safe: no "no risk found" then.
      const undecided = Object.values(state.results).some((c) => c.state === 'error');
      const shown = undecided && (state.risk === 'none' || state.risk === 'low') ? 'unknown' : state.risk;
      sum.className = 'summary risk-' + shown;
      sum.replaceChildren();
      sum.appendChild(el('span', 'risk-word', t('risk_word_' + shown)));
      sum.appendChild(document.createTextNode(' ' + t('risk_' + shown)));
      const notKnown = Object.values(state.results)
        .reduce((n, c) => n + (c.findings || []).filter((f) => f.confidence === 'unknown').length, 0);
      if (notKnown > 0) sum.appendChild(el('p', 'questions-unknown', t('questions_unknown', { n: notKnown })));
      sum.hidden = false;
    } else {
      sum.hidden = true;
    }
    const rows = $('rows');
    rows.replaceChildren();
    if (st !== 'not_found') {
      for (const def of state.checks) rows.appendChild(renderRow(def, state.results[def.check]));
    }
    const finished = ended(st);
    show('result-actions', finished || st === 'not_found');
    const link = $('permalink');
    link.href = '/d/' + state.id;
    link.textContent = location.origin + '/d/' + state.id;
    show('delete', !!state.token && st !== 'not_found');
    show('delete-note', !state.token && st !== 'not_found');
  }

  async function del() {
    if (!state.id || !state.token) return;
    const r = await fetch('/api/diagnoses/' + state.id, {
      method: 'DELETE', credentials: 'same-origin', headers: { 'X-Delete-Token': state.token },
    });
    if (r.status === 204) {
      try { localStorage.removeItem('exposure-token-' + state.id); } catch (e) { /* */ }
      showDeleted();
    } else {
      $('status-line').textContent = t('delete_failed', { code: r.status });
    }
  }

  function showDeleted() {
    stopFollowing();
    state.id = null;
    show('run', false);
    show('intro', false);
    show('deleted', true);
  }

  async function again() {
    stopFollowing();
    state.id = null;
    history.pushState({}, '', '/');
    await whoami();
    show('run', false);
    show('deleted', false);
    show('intro', true);
    applyLang();
    $('consent').focus();
  }

  function route() {
    const m = /^\/d\/([0-9a-f]{32})$/.exec(location.pathname);
    if (m) {
      openResult(m[1]);
    } else {
      stopFollowing();
      state.id = null;
      show('run', false);
      show('deleted', false);
      show('intro', true);
    }
    applyLang();
  }

  async function main() {
    const r = await fetch('/i18n.json', { cache: 'no-cache' });
    state.strings = await r.json();
    let saved = null;
    try { saved = localStorage.getItem('exposure-lang'); } catch (e) { saved = null; }
    state.lang = saved === 'ja' || saved === 'en' ? saved
      : (document.documentElement.lang === 'ja' ? 'ja' : 'en');
    await whoami();
    await loadAdvice();
    show('loading', false);
    $('lang-switch').addEventListener('click', switchLang);
    $('consent').addEventListener('change', () => { $('start').disabled = !$('consent').checked; });
    $('start-form').addEventListener('submit', start);
    $('again').addEventListener('click', again);
    $('delete').addEventListener('click', del);
    window.addEventListener('popstate', route);
    route();
  }

  document.addEventListener('DOMContentLoaded', () => {
    main().catch((e) => {
      $('loading').textContent = 'Error: ' + e.message;
    });
  });
}());
