// SPDX-License-Identifier: MIT
// Browser test of the self-diagnosis page: Debian's Chromium driven by playwright-core.
// Usage: node page_test.mjs PATH/TO/exposure ARTIFACT_DIR
// Starts lab listeners on 127.0.0.1 (an SSH-like banner holding <script> and <img onerror>, a
// silent VNC that keeps the diagnosis running for a while), the service with --port overrides,
// then, by keyboard: consent, start, see the live table and the final result, switch language,
// delete. Results the lab cannot produce (a check in error, a question not known, both address
// families with every kind of row) are served by the test (page.route) in the API's shape; on
// the two-family one: the verdict, the deduplicated first actions, the table, the details, the
// connection question (Contract C's PUT), the IT summary, print. axe-core (pinned in
// package-lock.json) checks WCAG 2.1 A/AA on the start page, the progress view and the result
// in both languages. Screenshots at 390 px and 1280 px go to ARTIFACT_DIR.
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [exposure, artifacts] = process.argv.slice(2);
const CHROMIUM = '/usr/bin/chromium';
const BANNER = 'SSH-2.0-Evil_1.0 <script>window.__xss=1</script><img src=x onerror="window.__xss=2">\r\n';
const deadline = setTimeout(() => { console.error('FAIL: overall timeout'); process.exit(1); }, 220000);

function fail(msg) { throw new Error(msg); }
function check(cond, msg) { if (!cond) fail(msg); console.log('ok   ' + msg); }

async function freePort() {
  for (;;) {
    const p = 10000 + Math.floor(Math.random() * 22000);
    const ok = await new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return p;
  }
}

function listen(port, onConn) {
  return new Promise((resolve, reject) => {
    const s = net.createServer(onConn);
    s.maxConnections = 64;
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

// The catalogue's checks, in its order: `exposure check --list --json`.
const CHECKS = JSON.parse(execFileSync(exposure, ['check', '--list', '--json'], { encoding: 'utf8' })).checks;

// Every check on free loopback ports (a range as wide as its own), no port twice:
// { check: 'port' or 'first-last' }.
async function labPorts() {
  const used = new Set();
  const out = {};
  for (const c of CHECKS) {
    const width = c.last_port - c.first_port + 1;
    let first = 0;
    for (let tries = 0; tries < 1000 && !first; tries++) {
      let p = await freePort();
      if (p > 32767 - width) p -= width;
      const span = Array.from({ length: width }, (_, k) => p + k);
      if (span.some((q) => used.has(q))) continue;
      span.forEach((q) => used.add(q));
      first = p;
    }
    if (!first) fail('no free ports for ' + c.check);
    out[c.check] = width === 1 ? String(first) : `${first}-${first + width - 1}`;
  }
  return out;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AXE_SRC = fs.readFileSync(path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const AXE_VERSION = JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', 'axe-core', 'package.json'), 'utf8')).version;

// axe-core inside the page (evaluated through the DevTools protocol, which the page's CSP does
// not govern), WCAG 2.0 and 2.1 levels A and AA only; every violation is named in the failure.
async function axe(page, what) {
  await page.evaluate(AXE_SRC);
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return { passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary) })) };
  });
  check(res.violations.length === 0 && res.passes >= 10,
    `axe-core ${AXE_VERSION}: no WCAG 2.1 A/AA violation on ${what} (${res.passes} rules passed)` +
    (res.violations.length ? ' ' + JSON.stringify(res.violations) : ''));
}

// Keyboard only: Tab until the predicate holds in the page (at most 200 presses).
async function tabTo(page, pred, what) {
  for (let i = 0; i < 200; i++) {
    if (await page.evaluate(pred)) return;
    await page.keyboard.press('Tab');
  }
  fail('Tab never reached ' + what);
}

// The language switch keeps its word on one line, inside the viewport.
async function switchFits(page, lang) {
  const m = await page.evaluate(() => {
    const b = document.getElementById('lang-switch');
    const r = document.createRange();
    r.selectNodeContents(b);
    const tops = new Set(Array.from(r.getClientRects(), (x) => Math.round(x.top)));
    const box = b.getBoundingClientRect();
    return { lines: tops.size, h: box.height, right: box.right, w: window.innerWidth, text: b.textContent };
  });
  check(m.lines === 1 && m.h < 60 && m.right <= m.w,
    `the language switch "${m.text}" stays on one line at ${m.w} px (${lang}: ${m.lines} line, ${Math.round(m.h)} px high)`);
}

async function headers(page) {
  return page.locator('#doors thead th').evaluateAll((th) => th.map((x) => x.textContent));
}

// Words in Latin letters left in a Japanese view, outside what is not the page's language
// (the probed host's words and commands, marked lang="en"), the advice texts (class "adv": the
// catalogue's own Japanese, where product names and settings keep their names) and names that
// stay as they are.
const NAMES = new Set(['IPv4', 'IPv6', 'SSH', 'SMB', 'SMBv1', 'SMB2', 'SMB3', 'RDP', 'VNC', 'NetBIOS', 'Telnet',
  'SKYSEA', 'Client', 'View', 'Windows', 'macOS', 'Linux', 'Wi-Fi', 'SIM', 'USB', 'LAN', 'TCP', 'NAT', 'exposure',
  'Ctrl', 'Mac', 'English', 'WannaCry']);
async function englishLeft(page) {
  const words = await page.evaluate(() => {
    const out = [];
    const skip = 'script,style,noscript,code,pre,textarea,[lang="en"],.adv,.addr,#permalink,#probe-source,[hidden]';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (!p || p.closest(skip) || !p.getClientRects().length) continue;
      for (const w of n.textContent.match(/[A-Za-z][A-Za-z0-9-]*/g) || []) out.push(w);
    }
    return out;
  });
  return Array.from(new Set(words.filter((w) => !NAMES.has(w))));
}

// Serve one made-up diagnosis to a page, in the shape of GET /api/diagnoses/{id}.
async function serve(page, doc) {
  await page.route(`**/api/diagnoses/${doc.id}/events`, (r) => r.abort());
  await page.route(`**/api/diagnoses/${doc.id}`, (r) => r.fulfill({ status: 200,
    contentType: 'application/json', body: JSON.stringify(doc) }));
}

const REASON = { open: 'syn-ack', closed: 'reset', filtered: 'timeout', error: 'local-error' };
function row(check, port, st, extra) {
  return Object.assign({ check, port, state: st, reason: REASON[st], rtt_ms: st === 'open' ? 0.5 : null, tries: 1,
    service: null, details: null, findings: [] }, extra || {});
}

// A visitor with both families (Contract A of issue 10), every kind of row: open on both, open
// on IPv6 only, closed, filtered, could not be decided; findings of several severities, one
// step shared by three of them, one question not known, and the cross-family findings the
// service adds for the two doors open on IPv6 only (docs/json.md, schema 2).
const V4 = '198.18.0.2';
const V6 = '2001:db8::2';
const TWO_STATES = { ssh: ['closed', 'open'], telnet: ['filtered', 'filtered'], netbios: ['closed', 'error'],
  smb: ['open', 'open'], rdp: ['closed', 'closed'], vnc: ['closed', 'open'], skysea: ['filtered', 'filtered'] };
function twoFamilies(id) {
  const smb = { service: 'smb', details: { dialects: ['NT LM 0.12', 'SMB 2.002', 'SMB 3.1.1'], signing: 'enabled' },
    findings: [{ id: 'smb-exposed', severity: 'high', confidence: 'likely' },
      { id: 'smb1-enabled', severity: 'high', confidence: 'confirmed' }] };
  const extra = {
    'ssh|6': { service: 'ssh', details: { banner: BANNER.trim(), kex: ['diffie-hellman-group1-sha1', 'curve25519-sha256'] },
      findings: [{ id: 'ssh-exposed', severity: 'medium', confidence: 'likely' },
        { id: 'ssh-weak-algorithms', severity: 'medium', confidence: 'confirmed' },
        { id: 'ssh-terrapin-prone', severity: 'medium', confidence: 'likely' }] },
    'netbios|6': { error: 'EMFILE' },
    'smb|4': smb,
    'smb|6': smb,
    'vnc|6': { details: { reason: 'no data before the idle timeout' },
      findings: [{ id: 'vnc-exposed', severity: 'high', confidence: 'likely' },
        { id: 'vnc-no-auth', severity: 'critical', confidence: 'unknown',
          reason: 'could not check: the service sent nothing (no data before the idle timeout)' }] },
  };
  const checks = [];
  for (const fam of [4, 6]) {
    for (const c of CHECKS) {
      const st = TWO_STATES[c.check][fam === 4 ? 0 : 1];
      checks.push(Object.assign(row(c.check, c.first_port, st, extra[c.check + '|' + fam]), { address: fam === 4 ? V4 : V6 }));
    }
  }
  const result = { schema: 2, target: V4, address: V4, started: '2026-12-04T15:00:00.000Z', risk: 'high',
    targets: [{ address: V4, family: 4, proven: 'peer' }, { address: V6, family: 6, proven: 'ticket' }],
    checks, findings: [
      { id: 'ipv6-only-exposure', severity: 'medium', confidence: 'confirmed', check: 'ssh', port: 22, address: V6,
        reason: `port 22 open on ${V6}, closed on ${V4}` },
      { id: 'ipv6-only-exposure', severity: 'high', confidence: 'confirmed', check: 'vnc', port: 5900, address: V6,
        reason: `port 5900 open on ${V6}, closed on ${V4}` }] };
  return { id, status: 'done', risk: 'high', checks, result, connection: null, device: 'desktop' };
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const lab = await labPorts();
  const sshP = Number(lab.ssh);
  const vncP = Number(lab.vnc);
  const held = [];
  const ssh = await listen(sshP, (c) => { c.on('error', () => {}); c.end(BANNER); });
  const vnc = await listen(vncP, (c) => { c.on('error', () => {}); held.push(c); setTimeout(() => c.destroy(), 20000); });
  const servePort = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposure-browser-'));
  const srv = spawn(exposure, ['serve', '--listen', `127.0.0.1:${servePort}`, '--store', path.join(dir, 'x.db'),
    '--key', path.join(dir, 'x.key'), '--probe-source-label', 'lab (127.0.0.1)',
    ...Object.entries(lab).flatMap(([check, p]) => ['--port', `${check}=${p}`])],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    srv.stdout.once('data', (d) => (String(d).includes('listening') ? resolve() : reject(new Error(String(d)))));
    srv.once('exit', (code) => reject(new Error('server exited ' + code)));
  });
  const base = `http://127.0.0.1:${servePort}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'exposure-chromium-'));
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args, locale: 'en-US',
    viewport: { width: 1280, height: 900 },
  });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  let dialogs = 0;
  const errors = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('dialog', (d) => { dialogs++; d.dismiss(); });
    page.on('pageerror', (e) => errors.push(String(e)));
    let sse = 0;
    page.on('request', (r) => { if (r.url().endsWith('/events')) sse++; });

    const axeRun = (p, what) => axe(p, what);

    // ---- Start page: keyboard only, axe in English.
    await page.goto(base + '/');
    await page.waitForSelector('#intro:not([hidden])');
    check(await page.getAttribute('html', 'lang') === 'en', 'English by default for en-US');
    check((await page.textContent('#address')) === '127.0.0.1', 'shows "your address is 127.0.0.1"');
    check((await page.locator('#plan-body tr').count()) === CHECKS.length,
      `lists the ${CHECKS.length} checks to be probed`);
    const plan = await page.locator('#plan-body tr').evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.cells, (td) => td.textContent)));
    check(plan.every(([label, ports], k) => label === CHECKS[k].label.en && ports === lab[CHECKS[k].check]),
      'each planned check with its label and its (moved) ports, in catalogue order');
    check((await page.textContent('#probe-source')) === 'lab (127.0.0.1)', 'shows the probe source');
    check(await page.isDisabled('#start'), 'button disabled before consent');
    await axeRun(page, 'the start page (en)');
    await switchFits(page, 'en');
    // Keyboard only: Tab to the checkbox, Space ticks it, Tab to the button, Enter starts.
    await tabTo(page, () => document.activeElement && document.activeElement.id === 'consent', 'the consent box');
    await page.keyboard.press('Space');
    check(await page.isChecked('#consent'), 'consent by keyboard');
    check(!(await page.isDisabled('#start')), 'button enabled after consent');
    await tabTo(page, () => document.activeElement && document.activeElement.id === 'start', 'the start button');
    await page.keyboard.press('Enter');

    // ---- Progress: SSH finishes while the silent VNC still holds the diagnosis open.
    await page.waitForSelector('tbody.door[data-check="ssh"] td[data-state="open"]', { timeout: 30000 });
    check((await page.locator('tbody.door[data-check="vnc"] td[data-state="pending"]').count()) === 1,
      'live table: ssh open while vnc still waiting');
    check(await page.evaluate(() => document.activeElement && document.activeElement.id === 'run-h'),
      'keyboard focus moves to the result heading');
    check(/^\/d\/[0-9a-f]{32}$/.test(new URL(page.url()).pathname), 'permanent URL /d/{id}');
    await page.screenshot({ path: path.join(artifacts, 'progress-1280.png'), fullPage: true });
    check(sse >= 1, 'progress over server-sent events');
    await axeRun(page, 'the progress view (en)');
    await page.click('#lang-switch');
    await page.waitForFunction(() => document.documentElement.lang === 'ja');
    await axeRun(page, 'the progress view (ja)');
    await page.click('#lang-switch');
    await page.waitForFunction(() => document.documentElement.lang === 'en');

    // ---- The real result (one family: one state column).
    await page.waitForSelector('#summary:not([hidden])', { timeout: 60000 });
    const summaryClass = await page.getAttribute('#summary', 'class');
    check(/risk-(medium|high|critical)/.test(summaryClass), 'summary colour class ' + summaryClass);
    const summary = await page.textContent('#summary');
    check(/risk/i.test(summary) && /Remote login \(SSH\) \(port \d+\)/.test(summary),
      'the verdict in one sentence names the open door: ' + summary.trim());
    check(JSON.stringify(await headers(page)) === JSON.stringify(['Check', 'Port', 'State']),
      'one family: columns Check, Port, State');
    const sshBody = page.locator('tbody.door[data-check="ssh"]');
    check(/Open/.test(await sshBody.locator('tr.door-row').textContent()), 'ssh row says Open in words');
    check(/Closed/.test(await page.textContent('tbody.door[data-check="telnet"]')), 'telnet row closed');
    check((await page.locator('tbody.door[data-check="telnet"] details').count()) === 0,
      'a closed door has nothing to unfold');
    const sshDetails = sshBody.locator('details.tech');
    check(!(await sshDetails.evaluate((d) => d.open)), 'technical details collapsed');
    await sshDetails.locator(':scope > summary').click();
    check(await sshDetails.evaluate((d) => d.open), 'technical details open on a click');
    const sshText = await sshBody.textContent();
    check((await sshBody.locator('li.finding').count()) >= 1, 'ssh door has its finding in its details');
    check((await page.locator('#todo-list > li').count()) >= 1, 'what to do first: at least one action');
    // The hostile banner is text, not markup.
    check(sshText.includes('<script>window.__xss=1</script>'), 'banner <script> shown as text');
    check(sshText.includes('<img src=x onerror='), 'banner <img onerror> shown as text');
    check((await page.locator('#doors img').count()) === 0, 'no <img> element from the banner');
    check((await page.locator('body script').count()) === 0, 'no <script> element in the body');
    check(await page.evaluate(() => window.__xss === undefined), 'no banner script ran');
    check(dialogs === 0, 'no dialog');
    const real = await page.evaluate(async (u) => (await fetch(u)).json(),
      '/api/diagnoses/' + new URL(page.url()).pathname.slice(3));
    check(Object.prototype.hasOwnProperty.call(real, 'connection') && real.connection === null &&
      await page.isVisible('#connection'), 'the connection question after the result (the API keeps the answer)');
    // Contract C end to end: the answer is stored with the result and read back.
    await page.click('#conn-tethering');
    await page.click('#conn-save');
    await page.waitForFunction(() => /Thank you/.test(document.getElementById('conn-status').textContent));
    const stored = await page.evaluate(async (u) => (await fetch(u)).json(),
      '/api/diagnoses/' + new URL(page.url()).pathname.slice(3));
    check(stored.connection === 'tethering', 'the answer is stored with the result: ' + stored.connection);
    await page.screenshot({ path: path.join(artifacts, 'result-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    check(overflow <= 390, 'no horizontal scrolling at 390 px (' + overflow + ')');
    await page.screenshot({ path: path.join(artifacts, 'result-390.png'), fullPage: true });

    // Language switch.
    await page.click('#lang-switch');
    await page.waitForFunction(() => document.documentElement.lang === 'ja');
    check((await page.textContent('#run-h')) === '診断結果', 'switched to Japanese');
    check(/開放/.test(await page.textContent('tbody.door[data-check="ssh"] tr.door-row')), 'rows in Japanese');
    await switchFits(page, 'ja');
    await page.screenshot({ path: path.join(artifacts, 'result-ja-390.png'), fullPage: true });
    await page.click('#lang-switch');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Permanent URL reloads the result.
    const id = new URL(page.url()).pathname.slice(3);
    await page.reload();
    await page.waitForSelector('#summary:not([hidden])');
    check(true, 'permanent URL shows the result after reload');
    check(await page.isChecked('#conn-tethering'), 'the stored answer is shown again after the reload');

    // ---- Results the lab cannot produce on demand, served by the test itself (page.route) in
    // the shape of GET /api/diagnoses/{id}.
    const advice = (await (await fetch(base + '/api/advice?lang=en')).json()).advice;
    const first = (fid) => advice[fid].actions[0].text;

    // A result where a check could not run (state "error") and nothing else is open must not be
    // shown as safe.
    const pe = await ctx.newPage();
    const fakeId = 'e'.repeat(32);
    const fake = { id: fakeId, status: 'done', risk: 'none',
      checks: CHECKS.map((c) => row(c.check, c.first_port, c.check === 'ssh' ? 'error' : 'closed')) };
    fake.result = { target: '127.0.0.1', address: '127.0.0.1', risk: 'none', checks: fake.checks };
    await serve(pe, fake);
    await pe.goto(base + '/d/' + fakeId);
    await pe.waitForSelector('#summary:not([hidden])');
    const cls = await pe.getAttribute('#summary', 'class');
    const words = await pe.textContent('#summary');
    check(/risk-unknown/.test(cls) && !/risk-none/.test(cls), 'a check that could not run: summary ' + cls);
    check(/cannot say you are safe/.test(words) && !/No risk found/.test(words),
      'a check that could not run: never "no risk found" (' + words.trim().slice(0, 60) + '...)');
    check(await pe.isHidden('#todo'), 'nothing to do first when nothing was found');
    check(await pe.isHidden('#connection'), 'no connection question when the API has no "connection"');
    await pe.close();

    // A question the check could not answer (issue 15: VNC open, silent, vnc-no-auth unknown):
    // "Not known" in words, never its severity as if it were so, and counted in the summary.
    const pq = await ctx.newPage();
    const qId = 'a'.repeat(32);
    const vncOpen = row('vnc', 5900, 'open', { details: { reason: 'no data before the idle timeout' }, findings: [
      { id: 'vnc-exposed', severity: 'high', confidence: 'likely' },
      { id: 'vnc-no-auth', severity: 'critical', confidence: 'unknown',
        reason: 'could not check: the service sent nothing (no data before the idle timeout)' }] });
    const qFake = { id: qId, status: 'done', risk: 'high',
      checks: CHECKS.map((c) => (c.check === 'vnc' ? vncOpen : row(c.check, c.first_port, 'closed'))) };
    qFake.result = { target: '127.0.0.1', address: '127.0.0.1', risk: 'high', checks: qFake.checks };
    await serve(pq, qFake);
    await pq.goto(base + '/d/' + qId);
    await pq.waitForSelector('#summary:not([hidden])');
    const nk = pq.locator('tbody.door[data-check="vnc"] li.finding.not-known');
    check((await nk.count()) === 1, 'an unanswered question is one "not known" finding');
    const nkText = await nk.textContent();
    check(/^Not known/.test(nkText.trim()) && !/critical/.test(nkText) &&
      /could not tell whether/.test(nkText) && /no data before the idle timeout/.test(nkText),
      'not known in words, with its reason (' + nkText.trim().slice(0, 80) + '...)');
    check(/Read the reason shown with this result/.test(nkText), 'with the advice for an undecided check');
    check(/Some questions could not be answered \(1\)/.test(await pq.textContent('#summary')),
      'the summary counts the unanswered question');
    const qTodo = await pq.locator('#todo-list > li').evaluateAll((li) => li.map((x) => x.getAttribute('data-findings')));
    check(JSON.stringify(qTodo) === JSON.stringify(['vnc-exposed']),
      'a question not known asks for no action of its own: ' + JSON.stringify(qTodo));
    await pq.close();

    // ---- Both families, every kind of row, reached through the page's own ticket flow: the
    // IPv6 host (here the page's own origin, routed) hands out a ticket, the POST carries it.
    const p2 = await ctx.newPage();
    const twoId = 'b'.repeat(32);
    const two = twoFamilies(twoId);
    let posted = null;
    let put = null;
    let ticketUrl = null;
    let who2 = null;
    await p2.route('**/api/whoami', async (r) => {
      const res = await r.fetch();
      const body = await res.json();
      body.family_hosts = { v6: base };
      who2 = body;
      await r.fulfill({ response: res, body: JSON.stringify(body) });
    });
    await p2.route(/\/api\/ticket(\?|$)/, (r) => (ticketUrl = r.request().url()) && r.fulfill({ status: 200, contentType: 'application/json',
      body: JSON.stringify({ address: V6, family: 6, expires_ms: Date.now() + 120000, ticket: 'TICKET-V6' }) }));
    await p2.route('**/api/diagnoses', (r) => {
      posted = { body: JSON.parse(r.request().postData() || '{}'), headers: r.request().headers() };
      r.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ id: twoId,
        delete_token: 'DELETE-TOKEN-B', status: 'queued', links: { page: '/d/' + twoId } }) });
    });
    await p2.route(`**/api/diagnoses/${twoId}/connection`, (r) => {
      put = { method: r.request().method(), body: JSON.parse(r.request().postData() || 'null'),
        headers: r.request().headers() };
      r.fulfill({ status: 204, body: '' });
    });
    await serve(p2, two);
    await p2.goto(base + '/');
    await p2.waitForSelector('#intro-families:not([hidden])');
    const fam2 = await p2.textContent('#intro-families');
    check(/Your IPv6 address 2001:db8::2 will be tested too/.test(fam2),
      'the start page names the IPv6 address its ticket proved: ' + fam2);
    await p2.check('#consent');
    await p2.click('#start');
    await p2.waitForSelector('#summary:not([hidden])');
    check(ticketUrl && new URL(ticketUrl).searchParams.get('csrf') === who2.csrf_token,
      'the ticket is asked for with the page\'s CSRF token (?csrf=)');
    check(posted && JSON.stringify(posted.body.tickets) === JSON.stringify(['TICKET-V6']) &&
      posted.headers['x-csrf-token'], 'POST /api/diagnoses carries the ticket and the CSRF token');

    // The table: a column per family, every door, in words and icons.
    check(JSON.stringify(await headers(p2)) === JSON.stringify(['Check', 'Port', 'IPv4', 'IPv6']),
      'two families: columns Check, Port, IPv4, IPv6');
    const table = await p2.locator('tbody.door').evaluateAll((bs) => bs.map((b) => ({
      check: b.getAttribute('data-check'),
      cells: Array.from(b.querySelectorAll('tr.door-row td.st'), (td) => [td.getAttribute('data-family'),
        td.getAttribute('data-state'), td.textContent, td.querySelector('.icon').getAttribute('aria-hidden')]),
      details: b.querySelectorAll('details.tech').length })));
    check(table.length === CHECKS.length && table.every((r, k) => r.check === CHECKS[k].check),
      'one table row per door, in catalogue order');
    const WORD = { open: 'Open', closed: 'Closed', filtered: 'No answer', error: 'Not decided' };
    for (const r of table) {
      const want = TWO_STATES[r.check];
      check(r.cells.length === 2 && r.cells[0][0] === '4' && r.cells[1][0] === '6' &&
        r.cells[0][1] === want[0] && r.cells[1][1] === want[1] &&
        r.cells.every((c) => c[2].endsWith(WORD[c[1]]) && c[2].length > WORD[c[1]].length && c[3] === 'true'),
      `${r.check}: IPv4 ${want[0]}, IPv6 ${want[1]}, in words with a hidden icon (${r.cells.map((c) => c[2]).join(' | ')})`);
      const wantDetails = want.some((s) => s === 'open' || s === 'error') ? 1 : 0;
      check(r.details === wantDetails, `${r.check}: technical details ${wantDetails ? 'under the door' : 'none'}`);
    }

    // The verdict and what to do first, deduplicated across doors and families.
    const verdictText = (await p2.textContent('#summary .verdict')).trim();
    check(/^High risk: 3 doors attackers use are open to the Internet: /.test(verdictText) &&
      verdictText.includes(`Remote login (SSH) (port ${lab.ssh}, IPv6)`) &&
      verdictText.includes(`(port ${lab.smb}, IPv4, IPv6)`) && verdictText.includes(`(port ${lab.vnc}, IPv6)`),
    'the verdict in one sentence: ' + verdictText);
    const todo = await p2.locator('#todo-list > li').evaluateAll((li) => li.map((x) => ({
      ids: x.getAttribute('data-findings'), text: x.querySelector('.todo-text').textContent,
      sev: x.querySelector('.badge').textContent, doors: x.querySelector('.todo-doors').textContent })));
    const routerStep = advice['ipv6-only-exposure'].actions.find((a) => a.platform === 'router').text;
    check(todo.length === 3, 'at most three actions (five distinct first steps found): ' + todo.length);
    check(todo[0].text === first('ssh-exposed') && first('ssh-exposed') === first('smb-exposed') &&
      first('smb-exposed') === first('vnc-exposed') && todo[0].ids === 'smb-exposed vnc-exposed ssh-exposed',
    'the step three findings share is one action: ' + todo[0].text.slice(0, 60) + '...');
    check(todo[0].doors.includes(`Remote login (SSH) (port ${lab.ssh}, IPv6)`) && todo[0].doors.includes(`(port ${lab.smb}, IPv4, IPv6)`) &&
      todo[0].doors.includes(`(port ${lab.vnc}, IPv6)`) && !/Telnet/.test(todo[0].doors),
    'it names every door it closes, with their families: ' + todo[0].doors);
    check(todo[1].text === first('smb1-enabled') && todo[1].ids === 'smb1-enabled',
      'then the next action of that severity: ' + todo[1].text.slice(0, 40));
    check(todo[2].text === routerStep && todo[2].ids === 'ipv6-only-exposure' &&
      todo[2].doors.includes(`Remote screen (VNC) (port ${lab.vnc}, IPv6)`) &&
      todo[2].doors.includes(`Remote login (SSH) (port ${lab.ssh}, IPv6)`) && !/SMB/.test(todo[2].doors),
    'the two doors open on IPv6 only: one action, the router\'s IPv6 firewall, naming both: ' + JSON.stringify(todo[2]));
    check(todo.map((x) => x.sev).join(',') === 'high,high,high', 'ordered by severity');
    check(!todo.some((x) => x.text === first('ssh-weak-algorithms') || x.text === first('ssh-terrapin-prone')) &&
      !todo.some((x) => x.text === first('ipv6-only-exposure')), 'the medium actions are left out, and so is the SIM step said twice');
    const todoAll = await p2.textContent('#todo');
    check(todoAll.split(first('ssh-exposed')).length === 2, 'the shared step appears once in what to do first');

    // Keyboard only: the steps of the first action, the door details, the connection question.
    await tabTo(p2, () => document.activeElement && document.activeElement.matches('#todo-list > li:first-child details.how > summary'),
      'the steps of the first action');
    await p2.keyboard.press('Enter');
    const steps = p2.locator('#todo-list > li:first-child details.how');
    check(await steps.evaluate((d) => d.open), 'steps open with Enter, one key away');
    const stepText = await steps.textContent();
    check(/Windows/.test(stepText) && /macOS/.test(stepText) && /Linux/.test(stepText) && /Router/.test(stepText) &&
      stepText.includes('sudo ufw deny 445/tcp') && stepText.includes('sudo ufw deny 22/tcp'),
    'the steps cover every door of the action, per platform');
    await tabTo(p2, () => document.activeElement && document.activeElement.matches('tbody.door[data-check="ssh"] summary'),
      'the ssh details');
    await p2.keyboard.press('Enter');
    const techText = await p2.textContent('tbody.door[data-check="ssh"] details.tech');
    check(techText.includes('<script>window.__xss=1</script>') && techText.includes('diffie-hellman-group1-sha1'),
      'banner and algorithms under the door, as text');
    check(techText.includes(advice['ipv6-only-exposure'].title) && techText.includes(`port 22 open on ${V6}, closed on ${V4}`),
      'the cross-family finding under its door, with its reason');
    check(await p2.isVisible('#connection'), 'the connection question follows the result');
    await tabTo(p2, () => document.activeElement && document.activeElement.name === 'connection', 'the first answer');
    await p2.keyboard.press('Space');
    await p2.keyboard.press('ArrowDown');
    check(await p2.isChecked('#conn-usb-modem'), 'an answer chosen by keyboard');
    await tabTo(p2, () => document.activeElement && document.activeElement.id === 'conn-save', 'the save button');
    await p2.keyboard.press('Enter');
    await p2.waitForFunction(() => /Thank you/.test(document.getElementById('conn-status').textContent));
    check(put && put.method === 'PUT' && JSON.stringify(put.body) === '{"connection":"usb-modem"}' &&
      put.headers.authorization === 'Bearer DELETE-TOKEN-B' && !!put.headers['x-csrf-token'],
    'PUT /api/diagnoses/{id}/connection with the delete token and the CSRF token');

    // The summary for the IT department.
    const it = await p2.inputValue('#it-text');
    check(it.includes('198.18.0.2 (IPv4), 2001:db8::2 (IPv6)') && it.includes('/d/' + twoId) &&
      it.split(first('ssh-exposed')).length === 2 &&
      it.split('\n').filter((l) => /^- .*, port /.test(l)).length === CHECKS.length &&
      it.includes(`- ${CHECKS.find((c) => c.check === 'smb').label.en}, port ${lab.smb}: IPv4 Open, IPv6 Open; smb-exposed (high), smb1-enabled (high)`) &&
      it.includes(`- ${CHECKS.find((c) => c.check === 'vnc').label.en}, port ${lab.vnc}: IPv4 Closed, IPv6 Open; vnc-exposed (high), vnc-no-auth (Not known), ipv6-only-exposure (high)`),
    'the IT summary: addresses, link, the actions once, every door');
    await p2.click('#it-copy');
    await p2.waitForFunction(() => document.getElementById('it-status').textContent !== '');
    const clip = await p2.evaluate(() => navigator.clipboard.readText().catch(() => null));
    check(clip === null ? /selected/.test(await p2.textContent('#it-status')) : clip === it,
      'copy puts the summary on the clipboard (or selects it)');

    // Accessibility of the whole result, details closed and open, both languages.
    await p2.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = false; }));
    await axeRun(p2, 'the two-family result (en)');
    await p2.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
    await axeRun(p2, 'the two-family result, every detail open (en)');
    await p2.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = false; }));
    await p2.screenshot({ path: path.join(artifacts, 'both-families-1280.png'), fullPage: true });
    await p2.setViewportSize({ width: 390, height: 844 });
    check(await p2.evaluate(() => document.documentElement.scrollWidth) <= 390, 'two families: no horizontal scrolling at 390 px');
    await switchFits(p2, 'en');
    await p2.screenshot({ path: path.join(artifacts, 'both-families-390.png'), fullPage: true });
    await p2.click('#lang-switch');
    await p2.waitForFunction(() => document.documentElement.lang === 'ja');
    await switchFits(p2, 'ja');
    await p2.screenshot({ path: path.join(artifacts, 'both-families-ja-390.png'), fullPage: true });
    await p2.setViewportSize({ width: 1280, height: 900 });
    await axeRun(p2, 'the two-family result (ja)');
    await p2.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
    await axeRun(p2, 'the two-family result, every detail open (ja)');
    const english = await englishLeft(p2);
    check(english.length === 0, 'no English left in the Japanese view: ' + JSON.stringify(english));
    check(/危険度は「高」です/.test(await p2.textContent('#summary')), 'the verdict in Japanese');
    await p2.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = false; }));

    // Print: no buttons, every collapsed part printed open, then closed again.
    await p2.emulateMedia({ media: 'print' });
    check(!(await p2.isVisible('#lang-switch')) && !(await p2.isVisible('#again')) && await p2.isVisible('#summary') &&
      await p2.isVisible('#doors'), 'print style: the result without buttons');
    await p2.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    check(await p2.evaluate(() => Array.from(document.querySelectorAll('#run details')).every((d) => d.open)),
      'printing opens every detail');
    await p2.evaluate(() => window.dispatchEvent(new Event('afterprint')));
    check(await p2.evaluate(() => Array.from(document.querySelectorAll('#run details')).every((d) => !d.open)),
      'and closes them again');
    await p2.emulateMedia({ media: 'screen' });
    await p2.click('#lang-switch');
    await p2.waitForFunction(() => document.documentElement.lang === 'en');
    await p2.close();

    // A family host the browser cannot reach, and a carrier-grade NAT peer.
    const p3 = await ctx.newPage();
    await p3.route('**/api/whoami', async (r) => {
      const res = await r.fetch();
      const body = await res.json();
      body.family_hosts = { v6: 'http://[::1]:9' };
      await r.fulfill({ response: res, body: JSON.stringify(body) });
    });
    await p3.goto(base + '/');
    await p3.waitForSelector('#intro-families:not([hidden])');
    const p3text = await p3.textContent('#intro-families');
    check(/IPv6 was not tested: your browser could not reach our IPv6 address/.test(p3text),
      'an unreachable IPv6 host: said in plain words: ' + p3text);
    await p3.close();
    const p4 = await ctx.newPage();
    await p4.route('**/api/whoami', async (r) => {
      const res = await r.fetch();
      const body = await res.json();
      Object.assign(body, { may_diagnose: false, reason: 'cgnat', class: 'shared', family_hosts: { v6: base },
        message: 'x', message_ja: 'x' });
      await r.fulfill({ response: res, body: JSON.stringify(body) });
    });
    await p4.route(/\/api\/ticket(\?|$)/, (r) => r.fulfill({ status: 200, contentType: 'application/json',
      body: JSON.stringify({ address: V6, family: 6, expires_ms: Date.now() + 120000, ticket: 'T' }) }));
    await p4.goto(base + '/');
    await p4.waitForSelector('#intro-families:not([hidden])');
    check(/carrier-grade NAT\). That is good news for IPv4/.test(await p4.textContent('#refused')) &&
      await p4.isVisible('#start-form'), 'a CGNAT peer: explained, and IPv6 can still be tested');
    await p4.close();

    // Delete.
    await page.click('#delete');
    await page.waitForSelector('#deleted:not([hidden])');
    const gone = await page.evaluate(async (u) => (await fetch(u)).status, `/api/diagnoses/${id}`);
    check(gone === 404, 'deleted on the server');

    // Japanese by default for a Japanese browser.
    const ctxJa = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
    const pj = await (await ctxJa.newContext({ locale: 'ja-JP' })).newPage();
    await pj.goto(base + '/');
    await pj.waitForSelector('#intro:not([hidden])');
    check(await pj.getAttribute('html', 'lang') === 'ja', 'Japanese by default for ja-JP');
    check((await pj.textContent('#start')) === '診断を開始', 'button in Japanese');
    await axe(pj, 'the start page (ja)');
    const englishStart = await englishLeft(pj);
    check(englishStart.length === 0, 'no English left on the Japanese start page: ' + JSON.stringify(englishStart));
    await pj.setViewportSize({ width: 390, height: 844 });
    await switchFits(pj, 'ja');
    await pj.screenshot({ path: path.join(artifacts, 'start-ja-390.png'), fullPage: true });
    await ctxJa.close();
    check(errors.length === 0, 'no page errors ' + errors.join('; '));
  } finally {
    await ctx.close();
    srv.kill('SIGTERM');
    await new Promise((r) => srv.once('exit', r));
    ssh.close();
    held.forEach((c) => c.destroy());
    vnc.close();
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

main().then(() => process.exit(0), (e) => { console.error('FAIL: ' + e.message); process.exit(1); });
