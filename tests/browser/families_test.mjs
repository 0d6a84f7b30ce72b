// SPDX-License-Identifier: MIT
// One visitor of the namespace lab of families.sh, in Chromium inside the visitor's namespace:
// the real page on http://exposure.test:PORT (names from the namespace's hosts file), its
// address tickets from v4.exposure.test / v6.exposure.test, the diagnosis and the result.
// Usage: node families_test.mjs VISITOR BASE IPV4 IPV6 ARTIFACT_DIR
//   VISITOR: vdual (both families; SSH open on IPv6 only, Telnet on both), vfour (IPv4 only;
//   Telnet open), vcgnat (IPv4 behind carrier-grade NAT, 100.64.0.0/10; SSH open on IPv6).
//   IPV6 empty: the visitor has none.
import { chromium } from 'playwright-core';
import path from 'node:path';

const [visitor, base, v4, v6, artifacts] = process.argv.slice(2);
const deadline = setTimeout(() => { console.error(`FAIL ${visitor}: timeout`); process.exit(1); }, 45000);
let fails = 0;
function check(cond, msg) {
  console.log((cond ? 'ok   ' : 'FAIL ') + `${visitor}: ${msg}`);
  if (!cond) fails++;
  return cond;
}

// The state cells of one door by family: { 4: state, 6: state } (one key for one family).
async function door(page, check) {
  return page.locator(`tbody.door[data-check="${check}"] tr.door-row td.st`).evaluateAll((tds) =>
    Object.fromEntries(tds.map((td) => [td.getAttribute('data-family'), td.getAttribute('data-state')])));
}

async function run(page) {
  await page.goto(base + '/');
  await page.waitForSelector('#intro:not([hidden])');
  // The page asks the family hosts for tickets before it says what will be tested.
  await page.waitForSelector('#intro-families:not([hidden])', { timeout: 15000 });
  const peer = (await page.textContent('#address')).trim();
  const fams = (await page.isVisible('#intro-families')) ? (await page.textContent('#intro-families')).trim() : '';
  console.log(`# ${visitor}: page loaded over ${peer}; families: ${fams}`);

  // A name with both families: Chromium connects over IPv6 first, as a dual-stack browser does.
  // In this lab it must: Chromium counts 2001:db8::/32 as a 'local' address space and
  // 198.18.0.0/15 as public, so a page loaded from 198.18.0.1 (an insecure context) may not
  // fetch from the IPv6 host at all (Local Network Access); on the Internet both are public.
  if (visitor === 'vdual') {
    check(peer === v6, `the main page came over IPv6 (${peer})`);
    check(fams.includes(`Your IPv4 address ${v4} will be tested too`),
      `the start page names the IPv4 address its ticket proved: ${fams}`);
  } else if (visitor === 'vfour') {
    check(peer === v4, `the main page came over IPv4 (${peer})`);
    check(/IPv6 was not tested: your browser could not reach our IPv6 address/.test(fams) &&
      /has no IPv6/.test(fams), `IPv6 not tested, and why, before the start: ${fams}`);
  } else {
    check(peer === v6, `the main page came over IPv6 (${peer})`);
    check(/IPv4 was not tested: your carrier shares this IPv4 address/.test(fams) && /good news for IPv4/.test(fams),
      `the CGNAT explanation before the start: ${fams}`);
    check(!(await page.isVisible('#refused')), 'the page does not refuse the visitor');
  }
  check(await page.isVisible('#start-form'), 'the visitor may start');
  await page.screenshot({ path: path.join(artifacts, `lab-${visitor}-start-1280.png`), fullPage: true });

  await page.check('#consent');
  await page.click('#start');
  await page.waitForSelector('#summary:not([hidden])', { timeout: 30000 });
  const id = new URL(page.url()).pathname.slice(3);
  check(/^[0-9a-f]{32}$/.test(id), 'the result at /d/{id}');
  const got = await page.evaluate(async (u) => (await fetch(u)).json(), '/api/diagnoses/' + id);
  const doc = got.result || got;
  const targets = (doc.targets || []).map((t) => `${t.address}/${t.family}`).sort();
  const th = await page.locator('#doors thead th').evaluateAll((x) => x.map((e) => e.textContent));
  const ssh = await door(page, 'ssh');
  const telnet = await door(page, 'telnet');
  const notes = (await page.isVisible('#family-notes')) ? (await page.textContent('#family-notes')).trim() : '';
  const verdict = (await page.textContent('#summary')).trim();
  console.log(`# ${visitor}: targets ${targets.join(' ')}; ssh ${JSON.stringify(ssh)}; telnet ${JSON.stringify(telnet)}; notes: ${notes}`);

  if (visitor === 'vdual') {
    check(JSON.stringify(targets) === JSON.stringify([`${v4}/4`, `${v6}/6`].sort()), 'both addresses diagnosed: ' + targets);
    check(JSON.stringify(th) === JSON.stringify(['Check', 'Port', 'IPv4', 'IPv6']), 'a column per family: ' + th);
    check(ssh['4'] === 'closed' && ssh['6'] === 'open', 'SSH: closed on IPv4, open on IPv6');
    check(telnet['4'] === 'open' && telnet['6'] === 'open', 'Telnet: open on both');
    const f = (doc.findings || []).filter((x) => x.id === 'ipv6-only-exposure');
    check(f.length === 1 && f[0].check === 'ssh' && f[0].address === v6 &&
      !(doc.findings || []).some((x) => x.id === 'ipv4-only-exposure'),
    'the service: ipv6-only-exposure for SSH at the IPv6 address, nothing else cross-family: ' + JSON.stringify(doc.findings));
    const advice = (await page.evaluate(async () => (await fetch('/api/advice?lang=en')).json())).advice;
    const title = advice['ipv6-only-exposure'].title;
    const sshFindings = await page.locator('tbody.door[data-check="ssh"] li.finding').allTextContents();
    check(sshFindings.some((x) => x.includes(title)), `the page: "${title}" under the SSH door`);
    const telnetFindings = await page.locator('tbody.door[data-check="telnet"] li.finding').allTextContents();
    check(!telnetFindings.some((x) => x.includes(title)), 'and not under Telnet, open on both');
    const todo = await page.locator('#todo-list > li').evaluateAll((li) => li.map((x) => x.getAttribute('data-findings')));
    check(todo.some((x) => /ipv6-only-exposure/.test(x)), 'what to do first includes the IPv6 firewall: ' + JSON.stringify(todo));
    check(/port 22, IPv6\)/.test(verdict), 'the verdict names SSH on IPv6: ' + verdict);
  } else if (visitor === 'vfour') {
    check(JSON.stringify(targets) === JSON.stringify([`${v4}/4`]), 'the IPv4 address only: ' + targets);
    check(JSON.stringify(th) === JSON.stringify(['Check', 'Port', 'State']), 'one family, one state column: ' + th);
    check(JSON.stringify(telnet) === '{"4":"open"}' && JSON.stringify(ssh) === '{"4":"closed"}',
      'IPv4 only: Telnet open, SSH closed');
    check(/IPv6 was not tested: your browser could not reach our IPv6 address/.test(notes),
      'the result says IPv6 was not tested and why: ' + notes);
  } else {
    check(JSON.stringify(targets) === JSON.stringify([`${v6}/6`]), 'IPv6 tested, the shared IPv4 address not: ' + targets);
    check(!JSON.stringify(doc).includes(v4), 'the CGNAT address is in no row of the result');
    check(JSON.stringify(ssh) === '{"6":"open"}' && JSON.stringify(th) === JSON.stringify(['Check', 'Port', 'State']),
      'one family, IPv6: SSH open there: ' + JSON.stringify(ssh));
    check(/IPv4 was not tested: your carrier shares this IPv4 address/.test(notes),
      'the result keeps the CGNAT explanation: ' + notes);
  }
  await page.screenshot({ path: path.join(artifacts, `lab-${visitor}-result-1280.png`), fullPage: true });
}

async function main() {
  // Debian's Chromium as root needs --no-sandbox; nothing in the background may reach out.
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--no-pings',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-domain-reliability', '--disable-features=MediaRouter,OptimizationHints'];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
  const errors = [];
  try {
    const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    if (process.env.XFF_V4) {
      // The CGNAT visitor: its requests to the IPv4 host arrive as from the carrier's address,
      // through the lab address the service trusts as a proxy (families.sh).
      const v4host = new URL(base).port ? `http://v4.exposure.test:${new URL(base).port}/**` : 'http://v4.exposure.test/**';
      await ctx.route(v4host, (route) => route.continue({
        headers: { ...route.request().headers(), 'x-forwarded-for': process.env.XFF_V4 } }));
    }
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') console.log(`# ${visitor} console: ${m.text()}`); });
    await run(page);
  } finally {
    await browser.close();
  }
  check(errors.length === 0, 'no page errors ' + errors.join('; '));
}

main().then(() => { clearTimeout(deadline); process.exit(fails ? 1 : 0); },
  (e) => { console.error(`FAIL ${visitor}: ${e.message}`); process.exit(1); });
