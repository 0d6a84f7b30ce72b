// SPDX-License-Identifier: MIT
// The self-diagnosis page. Everything a probed host sent is shown with textContent, never as
// markup; this file never assigns innerHTML. Served under a CSP without inline script.
//
// A result leads with what to do: the verdict in one sentence, then at most three actions
// (the first step of each finding's advice, one action however many doors and address families
// it concerns), then one table of every door with a column per address family tested, the
// technical details collapsed under each door.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SEV = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
  const CONNECTIONS = ['sim', 'usb-modem', 'tethering', 'router', 'wired', 'unknown'];
  const PLATFORMS = ['all', 'windows', 'macos', 'linux', 'router'];
  const state = {
    lang: 'en', strings: null, who: null, advice: {}, id: null, token: null,
    checks: [], results: {}, source: null, poll: null, status: null, doc: null, risk: null,
    tickets: null, notes: [], planned: null, connection: undefined,
    connMsg: null, itMsg: null, // { key, vars }: said again in the other language on a switch
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

  async function getJSON(url, opts) {
    const r = await fetch(url, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, opts || {}));
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    return { status: r.status, body: body, headers: r.headers };
  }

  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
    } catch (e) { /* private mode */ }
  }

  function load(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
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
    store('exposure-lang', state.lang);
    await loadAdvice();
    applyLang();
  }

  // ---------------------------------------------------------------------------------------
  // Who am I, which addresses, and what will be probed.

  function checkDef(name) {
    return state.checks.find((c) => c.check === name) || null;
  }

  function label(def) {
    return def ? (def.label[state.lang] || def.label.en) : '';
  }

  // 4 or 6, from an address's text (the document names families by number).
  function famOf(address) {
    if (typeof address !== 'string' || address === '') return null;
    return address.indexOf(':') >= 0 ? 6 : 4;
  }

  function whoFam() {
    return state.who && state.who.family === 'ipv6' ? 6 : 4;
  }

  function renderPlan() {
    const body = $('plan-body');
    body.replaceChildren();
    for (const c of state.checks) {
      const tr = el('tr');
      tr.appendChild(el('td', null, label(c)));
      tr.appendChild(el('td', 'num', c.transport === 'udp' ? c.ports + '/udp' : c.ports));
      body.appendChild(tr);
    }
  }

  function noteText(n) {
    const fam = 'IPv' + n.family;
    if (n.kind === 'cgnat') return t('note_cgnat', { fam: fam });
    if (n.kind === 'unreachable') return t('note_unreachable_' + n.family, { fam: fam });
    const msg = state.lang === 'ja' ? (n.message_ja || n.message) : n.message;
    return t('note_refused', { fam: fam, why: msg || t('err_generic', { code: n.status || '?' }) });
  }

  function renderNotes(ul, notes) {
    ul.replaceChildren();
    for (const n of notes) ul.appendChild(el('li', 'family-note', noteText(n)));
    ul.hidden = notes.length === 0;
  }

  // What the family hosts said: the addresses that will be tested besides the peer, and why a
  // family will not be.
  function renderFamilies() {
    const ul = $('intro-families');
    ul.replaceChildren();
    const tk = state.tickets;
    if (!tk) { ul.hidden = true; return; }
    for (const x of tk.ok) {
      ul.appendChild(el('li', 'family-ok', t('also_tested', { fam: 'IPv' + x.family, addr: x.address })));
    }
    for (const n of tk.notes) ul.appendChild(el('li', 'family-note', noteText(n)));
    ul.hidden = ul.childElementCount === 0;
  }

  function mayStart() {
    const w = state.who;
    return !!w && (w.may_diagnose || !!(state.tickets && state.tickets.ok.length));
  }

  function renderWho() {
    const w = state.who;
    if (!w) return;
    $('address').textContent = w.address;
    $('address-class').textContent = '(' + (w.family === 'ipv6' ? 'IPv6' : 'IPv4') + ')';
    $('probe-source').textContent = w.probe_source;
    const refusedPeer = !w.may_diagnose;
    if (refusedPeer) {
      $('refused-text').textContent = w.reason === 'cgnat'
        ? noteText({ family: whoFam(), kind: 'cgnat' })
        : (state.lang === 'ja' ? w.message_ja : w.message);
    }
    show('refused', refusedPeer);
    show('start-form', mayStart());
    renderFamilies();
  }

  async function whoami() {
    const r = await getJSON('/api/whoami');
    if (r.status !== 200 || !r.body) throw new Error('whoami ' + r.status);
    state.who = r.body;
    state.checks = r.body.checks || [];
  }

  // One address ticket from a family host (Contract A: GET /api/ticket on the IPv4-only or the
  // IPv6-only name, credentials included). A network error means the visitor could not reach
  // that family at all.
  async function ticketFrom(fam, base) {
    let r;
    try {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 6000);
      r = await fetch(base.replace(/\/+$/, '') + '/api/ticket?csrf=' + encodeURIComponent(state.who.csrf_token), {
        credentials: 'include', cache: 'no-store', signal: ctl.signal,
      });
      clearTimeout(timer);
    } catch (e) {
      return { note: { family: fam, kind: 'unreachable' } };
    }
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (r.status === 200 && body && typeof body.ticket === 'string') return { ok: body };
    const cgnat = body && (body.reason === 'cgnat' || body.class === 'shared');
    return { note: { family: fam, kind: cgnat ? 'cgnat' : 'refused', status: r.status,
      message: body && body.message, message_ja: body && body.message_ja } };
  }

  async function fetchTickets() {
    const hosts = state.who && state.who.family_hosts;
    const out = { ok: [], notes: [], at: Date.now() };
    if (!hosts) { state.tickets = out; return out; }
    const peer = whoFam();
    const asks = [];
    if (hosts.v4) asks.push(ticketFrom(4, hosts.v4));
    if (hosts.v6) asks.push(ticketFrom(6, hosts.v6));
    for (const a of await Promise.all(asks)) {
      if (a.ok) {
        const fam = a.ok.family === 6 || a.ok.family === 'ipv6' ? 6 : 4;
        // The peer is always diagnosed: its own ticket adds nothing.
        if (a.ok.address === state.who.address) continue;
        out.ok.push({ family: fam, address: a.ok.address, ticket: a.ok.ticket });
      } else if (a.note.family !== peer || !state.who.may_diagnose) {
        // A family the page itself came over is tested through the peer, whatever its host said.
        out.notes.push(a.note);
      }
    }
    state.tickets = out;
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // Starting a diagnosis.

  async function start(ev) {
    ev.preventDefault();
    const err = $('start-error');
    err.hidden = true;
    if (!$('consent').checked) return;
    $('start').disabled = true;
    // Tickets live at most 120 s: take fresh ones when the page has been open a while.
    if (state.who.family_hosts && (!state.tickets || Date.now() - state.tickets.at > 60000)) {
      await fetchTickets();
    }
    const tk = state.tickets || { ok: [], notes: [] };
    const req = { lang: state.lang };
    if (tk.ok.length) req.tickets = tk.ok.map((x) => x.ticket);
    let r;
    try {
      r = await fetch('/api/diagnoses', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.who.csrf_token },
        body: JSON.stringify(req),
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
      store('exposure-token-' + body.id, body.delete_token);
      const planned = [whoFam()].concat(tk.ok.map((x) => x.family));
      store('exposure-plan-' + body.id, JSON.stringify({ families: planned, notes: tk.notes }));
      history.pushState({ id: body.id }, '', body.links.page);
      $('consent').checked = false;
      openResult(body.id);
      $('run-h').focus();
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
      state.tickets = null;
      msg = t('err_csrf');
    } else if ((r.status === 403 || r.status === 400) && body && body.message) {
      state.tickets = null;
      msg = state.lang === 'ja' ? (body.message_ja || body.message) : body.message;
    }
    err.textContent = msg;
    err.hidden = false;
    $('start').disabled = !$('consent').checked;
  }

  // ---------------------------------------------------------------------------------------
  // Following a diagnosis.

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
    state.risk = null;
    state.connection = undefined;
    state.connMsg = null;
    state.itMsg = null;
    state.token = load('exposure-token-' + id);
    let plan = null;
    try { plan = JSON.parse(load('exposure-plan-' + id) || 'null'); } catch (e) { plan = null; }
    state.planned = plan && Array.isArray(plan.families) ? plan.families : null;
    state.notes = plan && Array.isArray(plan.notes) ? plan.notes : [];
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

  // Results are kept per check and family: a two-family document lists each check twice.
  function keep(c) {
    const fam = famOf(c.address) || (state.doc && famOf(state.doc.address)) || whoFam();
    state.results[c.check + '|' + fam] = c;
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
        if (d.check && d.check.check) keep(Object.assign({ address: d.address }, d.check));
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
      if (d.status === 'done' && d.result && !state.doc) {
        // The document names each row's address: key the rows by it from now on.
        state.doc = d.result;
        state.results = {};
      }
      const list = (d.status === 'done' && d.result && d.result.checks) || d.checks || [];
      for (const c of list) keep(c);
      // Contract C: the question is asked only of a service that keeps the answer.
      if (Object.prototype.hasOwnProperty.call(d, 'connection')) state.connection = d.connection;
      if (d.status === 'done') {
        state.risk = d.risk || (d.result && d.result.risk) || null;
        stopFollowing();
      }
      renderRun();
      if (ended(d.status)) return;
    }
    if (!once && !state.source) state.poll = setTimeout(() => refresh(), 1000);
  }

  // ---------------------------------------------------------------------------------------
  // The result, computed: families, doors, verdict, first actions.

  // The families of this result, IPv4 first: the document's targets when it has them, else the
  // addresses the rows name, else what the start planned, else the peer's.
  function families() {
    const set = new Set();
    const doc = state.doc;
    if (doc && Array.isArray(doc.targets) && doc.targets.length) {
      for (const x of doc.targets) set.add(x.family === 6 || x.family === 'ipv6' ? 6 : famOf(x.address) || 4);
    } else {
      for (const k of Object.keys(state.results)) set.add(Number(k.split('|')[1]));
      // What the start planned, until the document says what was tested.
      if (!doc && state.planned) state.planned.forEach((f) => set.add(f));
      if (set.size === 0) set.add(doc ? famOf(doc.address) || whoFam() : whoFam());
    }
    return Array.from(set).sort();
  }

  function addressOf(fam) {
    const doc = state.doc;
    if (doc && Array.isArray(doc.targets)) {
      const x = doc.targets.find((y) => (y.family === 6 || y.family === 'ipv6' ? 6 : famOf(y.address)) === fam);
      if (x) return x.address;
    }
    for (const [k, c] of Object.entries(state.results)) if (Number(k.split('|')[1]) === fam && c.address) return c.address;
    if (doc && famOf(doc.address) === fam) return doc.address;
    return null;
  }

  function result(check, fam) {
    return state.results[check + '|' + fam] || null;
  }

  // The document's cross-family findings about one door and family (ipv6-only-exposure).
  function crossFindings(check, fam) {
    const top = state.doc && Array.isArray(state.doc.findings) ? state.doc.findings : [];
    return top.filter((f) => f.check === check && famOf(f.address) === fam);
  }

  // Every finding of the result that asks for something to be done, worst first: the check
  // rows' findings and the document's cross-family ones. A finding not known (confidence
  // unknown) asks for nothing yet.
  function actionable() {
    const out = [];
    const order = (check) => state.checks.findIndex((c) => c.check === check);
    for (const [k, c] of Object.entries(state.results)) {
      const fam = Number(k.split('|')[1]);
      for (const f of c.findings || []) {
        if (f.confidence !== 'unknown') out.push({ f: f, check: c.check, fam: fam, port: c.port });
      }
    }
    const top = state.doc && Array.isArray(state.doc.findings) ? state.doc.findings : [];
    for (const f of top) {
      if (f.confidence === 'unknown') continue;
      const fam = famOf(f.address) || (/ipv4-only/.test(f.id) ? 4 : 6);
      out.push({ f: f, check: f.check || null, fam: fam, port: f.port, cross: true });
    }
    out.sort((a, b) => (SEV[b.f.severity] || 0) - (SEV[a.f.severity] || 0) ||
      order(a.check) - order(b.check) || a.fam - b.fam);
    return out;
  }

  // At most three actions: the first step of each finding's advice, one action per distinct
  // step (the same words from several findings, doors or families are one action that names
  // them all), worst severity first. Each keeps the other steps of its findings, per platform.
  // A cross-family finding (ipv6-only-exposure) comes on top of the door's own findings, whose
  // first step (leave the SIM / modem) its own first step repeats in other words: what it adds
  // is its router step (the router's IPv6 firewall), one action for every such door.
  function firstActions() {
    const all = state.advice[state.lang] || {};
    const groups = new Map();
    for (const x of actionable()) {
      const adv = all[x.f.id];
      if (!adv || !adv.actions || !adv.actions.length) continue;
      const head = (x.cross && adv.actions.find((a) => a.platform === 'router')) || adv.actions[0];
      let g = groups.get(head.text);
      if (!g) {
        g = { head: head, sev: x.f.severity, doors: new Map(), ids: [], steps: [], seen: new Set([head.text]) };
        groups.set(head.text, g);
      }
      if ((SEV[x.f.severity] || 0) > (SEV[g.sev] || 0)) g.sev = x.f.severity;
      if (g.ids.indexOf(x.f.id) < 0) g.ids.push(x.f.id);
      const dk = x.check || '';
      if (!g.doors.has(dk)) g.doors.set(dk, { check: x.check, port: x.port, fams: new Set() });
      g.doors.get(dk).fams.add(x.fam);
      for (const a of adv.actions) {
        if (g.seen.has(a.text)) continue;
        g.seen.add(a.text);
        g.steps.push(a);
      }
    }
    const list = Array.from(groups.values());
    list.sort((a, b) => (SEV[b.sev] || 0) - (SEV[a.sev] || 0));
    const shown = list.slice(0, 3);
    // A step that is itself one of the actions shown is said once, as that action.
    const heads = new Set(shown.map((g) => g.head.text));
    for (const g of shown) g.steps = g.steps.filter((a) => !heads.has(a.text));
    return shown;
  }

  function famList(fams) {
    return Array.from(fams).sort().map((f) => 'IPv' + f).join(t('list_sep'));
  }

  function doorName(d, withFams) {
    const def = checkDef(d.check);
    let s = def ? label(def) : t('door_any');
    const port = def ? def.ports : d.port;
    const bits = [];
    if (port) bits.push(t('port') + ' ' + port);
    if (withFams && d.fams && d.fams.size) bits.push(famList(d.fams));
    if (bits.length) s += ' (' + bits.join(t('list_sep')) + ')';
    return s;
  }

  function openDoors() {
    const fams = families();
    const out = [];
    for (const def of state.checks) {
      const open = new Set(fams.filter((f) => (result(def.check, f) || {}).state === 'open'));
      if (open.size) out.push({ check: def.check, fams: open });
    }
    return out;
  }

  function shownRisk() {
    // A check that could not run is never shown as safe: no "no risk found" then.
    const undecided = Object.values(state.results).some((c) => c.state === 'error');
    return undecided && (state.risk === 'none' || state.risk === 'low') ? 'unknown' : state.risk;
  }

  // The verdict in one sentence.
  function verdict(risk) {
    const doors = openDoors();
    const two = families().length > 1;
    if (doors.length && (risk === 'critical' || risk === 'high' || risk === 'medium')) {
      const names = doors.map((d) => doorName(d, two)).join(t('list_sep'));
      return t('verdict_' + risk + (doors.length === 1 ? '_one' : '_many'), { n: doors.length, doors: names });
    }
    return t('risk_' + risk);
  }

  // ---------------------------------------------------------------------------------------
  // Rendering.

  const ICON = { open: '⚠', closed: '✓', filtered: '✓', error: '?', 'open|filtered': '?', pending: '…' };

  function stateCell(c, fam) {
    const st = c ? c.state : 'pending';
    const td = el('td', 'st st-' + st);
    td.setAttribute('data-family', String(fam));
    td.setAttribute('data-state', st);
    td.appendChild(el('span', 'icon', ICON[st] || '?')).setAttribute('aria-hidden', 'true');
    td.appendChild(el('span', 'st-word', t('short_' + st)));
    return td;
  }

  // The technical side of one door in one family: why that state, what answered, and each
  // finding with its full advice. Text from the probed host goes in as text only.
  function familyDetails(def, fam, c, two) {
    const box = el('div', 'fam-detail');
    const addr = addressOf(fam);
    const head = el('p', 'fam-head');
    head.appendChild(el('strong', null, two ? 'IPv' + fam + (addr ? ' ' : '') : ''));
    if (addr && two) head.appendChild(el('span', 'addr', addr));
    head.appendChild(document.createTextNode((two ? ': ' : '') + t('state_' + c.state) +
      (c.reason ? ' (' + t('why_' + c.reason) + ')' : '')));
    box.appendChild(head);
    if (c.state === 'open') box.appendChild(el('p', null, def.open[state.lang] || def.open.en));
    const ans = answersBlock(c);
    if (ans) box.appendChild(ans);
    const all = (c.findings || []).concat(crossFindings(def.check, fam));
    if (all.length) {
      const ul = el('ul', 'findings');
      for (const f of all) ul.appendChild(findingBlock(f));
      box.appendChild(ul);
    }
    return box;
  }

  // Show what answered: the service and every short text field the probe reported, as text.
  function answersBlock(c) {
    if (c.state !== 'open') return null;
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
    box.appendChild(el('span', 'label', t('answers') + ' '));
    if (lines.length === 0) {
      box.appendChild(el('span', null, t('nothing_answers')));
    } else {
      // The host's own words: marked as not in the page's language.
      const pre = el('pre', 'banner');
      pre.lang = 'en';
      pre.textContent = lines.join('\n');
      box.appendChild(pre);
    }
    return box;
  }

  function stepList(actions) {
    const box = el('div', 'steps');
    for (const p of PLATFORMS) {
      const mine = actions.filter((a) => a.platform === p);
      if (!mine.length) continue;
      box.appendChild(el('h5', 'platform', t('platform_' + p)));
      const ol = el('ul');
      for (const a of mine) {
        const item = el('li', 'adv', a.text);
        if (a.command) item.appendChild(el('code', 'cmd', a.command)).lang = 'en';
        ol.appendChild(item);
      }
      box.appendChild(ol);
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
    head.appendChild(el('strong', 'adv', title ? title.title : f.id));
    head.appendChild(el('span', 'muted', ' (' + t('confidence_' + f.confidence) + ')'));
    li.appendChild(head);
    if (notKnown) li.appendChild(el('p', null, t('not_known_meaning')));
    if (f.reason) {
      const why = el('p', 'muted');
      why.appendChild(el('span', null, t('finding_reason') + ' '));
      why.appendChild(el('span', null, f.reason)).lang = 'en';
      li.appendChild(why);
    }
    if (adv) {
      li.appendChild(el('p', 'adv', adv.meaning));
      const det = el('details', 'advice');
      det.appendChild(el('summary', null, t('finding_more')));
      det.appendChild(stepList(adv.actions || []));
      li.appendChild(det);
    }
    return li;
  }

  function renderHead(fams) {
    const tr = $('doors-head');
    tr.replaceChildren();
    const th = (key, text) => {
      const h = el('th', null, text === undefined ? t(key) : text);
      h.scope = 'col';
      tr.appendChild(h);
    };
    th('col_check');
    th('col_port');
    if (fams.length > 1) {
      for (const f of fams) th(null, t('col_family', { fam: 'IPv' + f }));
    } else {
      th('col_state');
    }
  }

  // A range may break after its dash on a narrow screen, a number never.
  function portCell(ports) {
    const td = el('td', 'num');
    const parts = String(ports).split('-');
    parts.forEach((x, i) => {
      if (i > 0) { td.appendChild(document.createTextNode('-')); td.appendChild(el('wbr')); }
      td.appendChild(document.createTextNode(x));
    });
    return td;
  }

  function renderDoors() {
    const table = $('doors');
    const fams = families();
    const two = fams.length > 1;
    renderHead(fams);
    table.querySelectorAll('tbody').forEach((b) => b.remove());
    for (const def of state.checks) {
      const body = el('tbody', 'door');
      body.setAttribute('data-check', def.check);
      const tr = el('tr', 'door-row');
      const name = el('th', null, label(def));
      name.scope = 'row';
      tr.appendChild(name);
      tr.appendChild(portCell(def.ports));
      const got = fams.map((f) => result(def.check, f));
      fams.forEach((f, i) => tr.appendChild(stateCell(got[i], f)));
      body.appendChild(tr);
      // Details only where there is something to say beyond the state word.
      if (got.some((c) => c && (c.state === 'open' || c.state === 'error' || (c.findings || []).length))) {
        const dr = el('tr', 'door-detail');
        const td = el('td');
        td.colSpan = 2 + fams.length;
        const det = el('details', 'tech');
        det.appendChild(el('summary', null, t('door_details', { door: label(def) })));
        fams.forEach((f, i) => { if (got[i]) det.appendChild(familyDetails(def, f, got[i], two)); });
        td.appendChild(det);
        dr.appendChild(td);
        body.appendChild(dr);
      }
      table.appendChild(body);
    }
  }

  function renderTodo(list) {
    const ol = $('todo-list');
    ol.replaceChildren();
    list.forEach((g, i) => {
      const li = el('li', 'todo-item sev-' + g.sev);
      li.setAttribute('data-findings', g.ids.join(' '));
      const head = el('p', 'todo-head');
      head.appendChild(el('span', 'badge sev-' + g.sev, t('severity_' + g.sev)));
      head.appendChild(document.createTextNode(' '));
      if (g.head.platform !== 'all') head.appendChild(el('strong', null, t('platform_' + g.head.platform) + ': '));
      head.appendChild(el('span', 'todo-text adv', g.head.text));
      li.appendChild(head);
      const doors = Array.from(g.doors.values());
      const two = families().length > 1;
      const dl = el('p', 'todo-doors');
      dl.appendChild(el('strong', null, t('todo_doors') + ' '));
      dl.appendChild(el('span', null, doors.map((d) => doorName(d, two)).join(t('list_sep'))));
      li.appendChild(dl);
      if (g.head.command) li.appendChild(el('code', 'cmd', g.head.command)).lang = 'en';
      if (g.steps.length) {
        const det = el('details', 'how');
        det.appendChild(el('summary', null, t('todo_steps', { k: i + 1 })));
        det.appendChild(stepList(g.steps));
        li.appendChild(det);
      }
      ol.appendChild(li);
    });
    show('todo', list.length > 0);
  }

  function renderConnection() {
    const on = state.status === 'done' && !!state.token && state.connection !== undefined;
    show('connection', on);
    $('conn-status').textContent = state.connMsg ? t(state.connMsg.key, state.connMsg.vars) : '';
    if (!on) return;
    const box = $('conn-options');
    const picked = box.querySelector('input:checked');
    const cur = picked ? picked.value : state.connection;
    box.replaceChildren();
    for (const v of CONNECTIONS) {
      const row = el('p', 'conn-option');
      const input = el('input');
      input.type = 'radio';
      input.name = 'connection';
      input.id = 'conn-' + v;
      input.value = v;
      input.checked = cur === v;
      row.appendChild(input);
      const lab = el('label', null, t('conn_' + v));
      lab.htmlFor = input.id;
      row.appendChild(lab);
      box.appendChild(row);
    }
  }

  function itSummary(risk, todo) {
    const fams = families();
    const lines = [];
    lines.push(t('it_title'));
    lines.push(t('it_link') + ' ' + location.origin + '/d/' + state.id);
    const when = state.doc && state.doc.started ? state.doc.started : new Date().toISOString();
    lines.push(t('it_when') + ' ' + when);
    lines.push(t('it_addresses') + ' ' + fams.map((f) => (addressOf(f) || '?') + ' (IPv' + f + ')').join(', '));
    lines.push(t('it_verdict') + ' ' + verdict(risk));
    for (const n of state.notes) lines.push('- ' + noteText(n));
    if (todo.length) {
      lines.push('');
      lines.push(t('todo_heading') + ':');
      todo.forEach((g, i) => lines.push((i + 1) + '. ' + g.head.text + ' [' +
        Array.from(g.doors.values()).map((d) => doorName(d, fams.length > 1)).join(t('list_sep')) + ']'));
    }
    lines.push('');
    lines.push(t('it_doors') + ':');
    for (const def of state.checks) {
      const cells = fams.map((f) => {
        const c = result(def.check, f);
        const st = t('short_' + (c ? c.state : 'pending'));
        return fams.length > 1 ? 'IPv' + f + ' ' + st : st;
      });
      const ids = [];
      for (const f of fams) for (const x of ((result(def.check, f) || {}).findings || []).concat(crossFindings(def.check, f))) {
        const s = x.id + ' (' + (x.confidence === 'unknown' ? t('not_known') : t('severity_' + x.severity)) + ')';
        if (ids.indexOf(s) < 0) ids.push(s);
      }
      lines.push('- ' + label(def) + ', ' + t('port') + ' ' + def.ports + ': ' + cells.join(', ') +
        (ids.length ? '; ' + ids.join(', ') : ''));
    }
    return lines.join('\n');
  }

  function renderRun() {
    if (state.id === null || $('run').hidden) return;
    const done = Object.keys(state.results).length;
    const fams = families();
    const total = state.checks.length * fams.length;
    const line = $('status-line');
    const st = state.status || 'queued';
    line.textContent = t('status_' + st, { done: done, total: total });
    const sum = $('summary');
    const finished = st === 'done' && state.risk;
    let risk = null;
    let todo = [];
    if (finished) {
      risk = shownRisk();
      sum.className = 'summary risk-' + risk;
      sum.replaceChildren();
      // The sentence says the risk in words: the colour only repeats it.
      sum.appendChild(el('p', 'verdict', verdict(risk)));
      const notKnown = Object.values(state.results)
        .reduce((n, c) => n + (c.findings || []).filter((f) => f.confidence === 'unknown').length, 0);
      if (notKnown > 0) sum.appendChild(el('p', 'questions-unknown', t('questions_unknown', { n: notKnown })));
      todo = firstActions();
    }
    sum.hidden = !finished;
    renderNotes($('family-notes'), state.notes);
    renderTodo(todo);
    show('doors', st !== 'not_found');
    if (st !== 'not_found') renderDoors();
    renderConnection();
    show('it', !!finished);
    if (finished) $('it-text').value = itSummary(risk, todo);
    $('it-status').textContent = state.itMsg ? t(state.itMsg.key) : '';
    show('result-actions', ended(st) || st === 'not_found');
    show('print', !!finished);
    const link = $('permalink');
    link.href = '/d/' + state.id;
    link.textContent = location.origin + '/d/' + state.id;
    show('delete', !!state.token && st !== 'not_found');
    show('delete-note', !state.token && st !== 'not_found');
  }

  // ---------------------------------------------------------------------------------------
  // Actions on a result.

  async function saveConnection(ev) {
    ev.preventDefault();
    const picked = $('conn-options').querySelector('input:checked');
    if (!picked || !state.id || !state.token) return;
    const say = (key, vars) => { state.connMsg = { key: key, vars: vars }; $('conn-status').textContent = t(key, vars); };
    let r;
    try {
      r = await fetch('/api/diagnoses/' + state.id + '/connection', {
        method: 'PUT',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + state.token,
          'X-CSRF-Token': state.who.csrf_token },
        body: JSON.stringify({ connection: picked.value }),
      });
    } catch (e) {
      say('conn_failed', { code: 'network' });
      return;
    }
    if (r.status === 204) {
      state.connection = picked.value;
      say('conn_saved');
    } else {
      if (r.status === 403) await whoami().catch(() => {});
      say('conn_failed', { code: r.status });
    }
  }

  async function copySummary() {
    const ta = $('it-text');
    try {
      await navigator.clipboard.writeText(ta.value);
      state.itMsg = { key: 'it_copied' };
    } catch (e) {
      ta.focus();
      ta.select();
      state.itMsg = { key: 'it_select' };
    }
    $('it-status').textContent = t(state.itMsg.key);
  }

  // Print every collapsed part open, and put them back as they were afterwards.
  let printOpened = [];
  function beforePrint() {
    printOpened = Array.from(document.querySelectorAll('#run details:not([open])'));
    printOpened.forEach((d) => { d.open = true; });
  }
  function afterPrint() {
    printOpened.forEach((d) => { d.open = false; });
    printOpened = [];
  }

  async function del() {
    if (!state.id || !state.token) return;
    const r = await fetch('/api/diagnoses/' + state.id, {
      method: 'DELETE', credentials: 'same-origin', headers: { 'X-Delete-Token': state.token },
    });
    if (r.status === 204) {
      store('exposure-token-' + state.id, null);
      store('exposure-plan-' + state.id, null);
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
    $('deleted-h').tabIndex = -1;
    $('deleted-h').focus();
  }

  async function showIntro() {
    show('run', false);
    show('deleted', false);
    show('intro', true);
    state.tickets = null;
    if (state.who && state.who.family_hosts) {
      await fetchTickets();
      renderWho();
    }
  }

  async function again() {
    stopFollowing();
    state.id = null;
    history.pushState({}, '', '/');
    await whoami();
    applyLang();
    await showIntro();
    $('consent').focus();
  }

  function route() {
    const m = /^\/d\/([0-9a-f]{32})$/.exec(location.pathname);
    if (m) {
      openResult(m[1]);
    } else {
      stopFollowing();
      state.id = null;
      showIntro();
    }
    applyLang();
  }

  async function main() {
    const r = await fetch('/i18n.json', { cache: 'no-cache' });
    state.strings = await r.json();
    const saved = load('exposure-lang');
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
    $('print').addEventListener('click', () => window.print());
    $('conn-form').addEventListener('submit', saveConnection);
    $('it-copy').addEventListener('click', copySummary);
    window.addEventListener('beforeprint', beforePrint);
    window.addEventListener('afterprint', afterPrint);
    window.addEventListener('popstate', route);
    route();
  }

  document.addEventListener('DOMContentLoaded', () => {
    main().catch((e) => {
      $('loading').textContent = 'Error: ' + e.message;
    });
  });
}());
