// SPDX-License-Identifier: MIT
// Browser test of the operator dashboard /admin/stats: Debian's Chromium driven by
// playwright-core. Usage:
//   node dashboard_test.mjs PATH/TO/exposure ARTIFACT_DIR PATH/TO/report-gen-store
// Generates a store of 3,000 results (2024-01-01 on, 10 minutes apart) through the store's own
// interface, starts the service on it with an operator token file and a labels file, then: the
// login refuses a wrong token and accepts the right one, the page shows the bar chart (an <svg>
// with bars) and the tables, the "Download CSV" file equals `exposure report --db SAME.db
// --format csv --trend week --labels SAME.csv` byte for byte, and again with a label filter.
// Screenshots at 1280 px and 390 px go to ARTIFACT_DIR. No probe is run.
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const [exposure, artifacts, gen] = process.argv.slice(2);
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-operator-token-5f2a9c';
const deadline = setTimeout(() => { console.error('FAIL: overall timeout'); process.exit(1); }, 150000);

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

function report(db, labels, extra) {
  const r = spawnSync(exposure, ['report', '--db', db, '--format', 'csv', '--trend', 'week',
    '--labels', labels, ...extra], { timeout: 60000 });
  if (r.status !== 0) fail('exposure report: ' + r.status + ' ' + String(r.stderr));
  return r.stdout;
}

async function download(page, selector, dir, name) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const file = path.join(dir, name);
  await dl.saveAs(file);
  return fs.readFileSync(file);
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposure-dash-'));
  const db = path.join(dir, 'stats.db');
  const labels = path.join(dir, 'labels.csv');
  const tokenFile = path.join(dir, 'token');
  const g = spawnSync(gen, [db, '3000', '600000'], { timeout: 120000 });
  if (g.status !== 0) fail('report-gen-store: ' + String(g.stderr));
  fs.writeFileSync(labels, 'prefix,label\n198.18.0.0/16,benchnet\n198.18.0.0/20,mobile\n2001:db8::/32,v6\n');
  fs.writeFileSync(tokenFile, TOKEN + '\n', { mode: 0o600 });
  const servePort = await freePort();
  const srv = spawn(exposure, ['serve', '--listen', `127.0.0.1:${servePort}`, '--store', db,
    '--key', path.join(dir, 'x.key'), '--admin-token-file', tokenFile, '--labels', labels,
    '--retention-days', '36500'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    srv.stdout.once('data', (d) => (String(d).includes('listening') ? resolve() : reject(new Error(String(d)))));
    srv.once('exit', (code) => reject(new Error('server exited ' + code)));
  });
  const base = `http://127.0.0.1:${servePort}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'exposure-chromium-'));
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args, locale: 'en-US', acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  const errors = [];
  const csp = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });

    // Refused: no token, then a wrong one.
    let resp = await page.goto(base + '/admin/stats');
    check(resp.status() === 401, 'no token: 401');
    check(await page.isVisible('#token'), 'the login form is shown');
    check((await page.locator('svg').count()) === 0, 'no chart without the token');
    await page.fill('#token', 'wrong-token-wrong-token');
    await Promise.all([page.waitForNavigation(), page.click('#login')]);
    const loginErr = await page.textContent('#login-error').catch(() => '') ;
    check(/Wrong operator token/.test(loginErr), 'wrong token refused: ' + (loginErr || (await page.content()).slice(0, 300)));
    check((await page.locator('svg').count()) === 0, 'still no chart');
    check(!(page.url().includes(TOKEN)) && !(page.url().includes('token=')), 'no token in the URL');

    // Accepted.
    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForNavigation(), page.click('#login')]);
    check(new URL(page.url()).pathname === '/admin/stats', 'logged in: /admin/stats');
    check(!page.url().includes(TOKEN), 'no token in the URL after login');
    const cookies = await ctx.cookies(base + '/admin/stats');
    const sess = cookies.find((c) => c.name === 'exposure_admin');
    check(sess && sess.httpOnly && sess.sameSite === 'Strict' && sess.path === '/admin', 'session cookie HttpOnly, SameSite=Strict, Path=/admin');
    check(!sess.value.includes(TOKEN), 'the cookie is not the token');
    check(await page.evaluate(() => !document.cookie.includes('exposure_admin')), 'cookie hidden from scripts');
    const bars = page.locator('svg rect.bar');
    const nbars = await bars.count();
    check(nbars >= 9, 'bar chart rendered: ' + nbars + ' bars');
    const widths = await bars.evaluateAll((rs) => rs.map((r) => r.getBBox().width));
    check(widths.some((w) => w > 1), 'bars have width: ' + widths.map((w) => w.toFixed(0)).join(','));
    check((await page.locator('svg polyline.trend').count()) >= 1, 'trend chart rendered');
    check((await page.locator('table.report-table tr').count()) > 5, 'table of measures');
    check(!/198\.18\.|2001:db8/.test(await page.content()), 'no address or prefix on the page');
    await page.screenshot({ path: path.join(artifacts, 'dashboard-1280.png'), fullPage: true });

    // CSV download = exposure report --format csv --trend week (labels as the service's).
    const got = await download(page, 'a:has-text("Download CSV")', dir, 'all.csv');
    const want = report(db, labels, []);
    check(want.length > 1000 && Buffer.compare(got, want) === 0,
      'CSV download equals exposure report --format csv --trend week (' + got.length + ' bytes)');

    // Filters: a label and a period.
    await page.selectOption('#label', 'mobile');
    await page.fill('#since', '2024-01-08');
    await page.fill('#until', '2024-01-21');
    await Promise.all([page.waitForNavigation(), page.click('#show')]);
    const q = new URL(page.url()).searchParams;
    check(q.get('label') === 'mobile' && q.get('since') === '2024-01-08', 'filters in the query');
    check((await page.locator('svg rect.bar').count()) >= 9, 'filtered chart rendered');
    check((await page.inputValue('#label')) === 'mobile', 'the filter stays selected');
    const got2 = await download(page, 'a:has-text("Download CSV")', dir, 'mobile.csv');
    const want2 = report(db, labels, ['--label', 'mobile', '--since', '2024-01-08', '--until', '2024-01-21']);
    check(Buffer.compare(got2, want2) === 0, 'filtered CSV equals exposure report with the same options');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(artifacts, 'dashboard-390.png'), fullPage: true });

    // Log out.
    await Promise.all([page.waitForNavigation(), page.click('#logout')]);
    check(await page.isVisible('#token'), 'logged out: the login form again');
    check(errors.length === 0, 'no page errors ' + errors.join('; '));
    check(csp.length === 0, 'no CSP violation ' + csp.join('; '));
  } finally {
    await ctx.close();
    srv.kill('SIGTERM');
    await new Promise((r) => srv.once('exit', r));
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

main().then(() => process.exit(0), (e) => { console.error('FAIL: ' + e.message); process.exit(1); });
