// tests/browser/dashboard.mjs — the dashboard in Debian's Chromium (playwright-core; never downloads
// a browser), against a running vibewatch:
//
//   node tests/browser/dashboard.mjs URL --operator USER:PASS --viewer USER:PASS --asset ID
//        [--out DIR] [--chromium /usr/bin/chromium] [--alert-wait S]
//
// Prints one TAP-like line per check ("ok - dashboard_browser: WHAT" / "not ok - …: WHAT: WHY")
// and saves screenshots of every page to DIR (default tests/out/screenshots). Exit status 0 when
// every check passed, 1 otherwise.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const base = (args.find((a) => !a.startsWith('--') && /^https?:/.test(a)) || '').replace(/\/$/, '');
const opt = (name, def) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
if (!base) {
  console.error('usage: dashboard.mjs URL --operator USER:PASS --viewer USER:PASS --asset ID [--out DIR]');
  process.exit(2);
}
const creds = (s) => [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)];
const [opUser, opPass] = creds(opt('operator', 'ana:secret'));
const [viUser, viPass] = creds(opt('viewer', 'vic:secret'));
const assetId = opt('asset', 'p1');
const outDir = opt('out', join(here, '..', 'out', 'screenshots'));
const alertWaitS = Number(opt('alert-wait', '40'));
const NAME = 'dashboard_browser';
const LIMIT_BYTES = 300 * 1024;
mkdirSync(outDir, { recursive: true });

let failed = 0;
function ok(what) {
  console.log(`ok - ${NAME}: ${what}`);
}
function bad(what, why) {
  failed++;
  console.log(`not ok - ${NAME}: ${what}: ${String(why).replace(/\s+/g, ' ').slice(0, 400)}`);
}
async function check(what, f) {
  try {
    const r = await f();
    ok(r ? `${what} (${r})` : what);
    return true;
  } catch (e) {
    bad(what, e && e.message ? e.message : e);
    return false;
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const t0 = Date.now();
const browser = await chromium.launch({
  executablePath: opt('chromium', '/usr/bin/chromium'),
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  // playwright gives every launch a fresh user-data dir of its own (and removes it on close)
  timeout: 30000,
});

// Every console error, uncaught exception and CSP violation of every page, by page label.
const problems = [];
async function newPage(label, contextOpts = {}) {
  const ctx = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 }, ...contextOpts });
  await ctx.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // the browser logs the expected 401 of the wrong-password check as a failed resource load
    if (/status of 401/.test(text) && page.__expect401) return;
    problems.push(`${label}: console: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`${label}: exception: ${e.message}`));
  return { ctx, page };
}
async function cspViolations(page) {
  return page.evaluate(() => window.__csp || []).catch(() => []);
}

async function login(page, user, pass) {
  await page.fill('#login-user', user);
  await page.fill('#login-pass', pass);
  await page.click('#login-btn');
  await page.waitForSelector('#who', { timeout: 10000 });
  await page.waitForFunction((u) => (document.getElementById('who') || {}).textContent.includes(u), user);
}

// Pixels of a canvas inside `sel` whose colour is within tol of rgb (all when rgb is null: any
// non-transparent pixel).
async function canvasCount(page, sel, rgb, tol = 40) {
  return page.$eval(
    sel,
    (el, [rgb, tol]) => {
      const c = el.tagName === 'CANVAS' ? el : el.querySelector('canvas');
      if (!c || !c.width) return -1;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] < 128) continue;
        if (!rgb || (Math.abs(d[i] - rgb[0]) <= tol && Math.abs(d[i + 1] - rgb[1]) <= tol && Math.abs(d[i + 2] - rgb[2]) <= tol)) n++;
      }
      return n;
    },
    [rgb, tol]
  );
}

const { ctx, page } = await newPage('operator');
const cdp = await ctx.newCDPSession(page);
await cdp.send('Network.enable');
await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
const transfers = new Map();
cdp.on('Network.responseReceived', (e) => transfers.set(e.requestId, { url: e.response.url, bytes: 0 }));
cdp.on('Network.loadingFinished', (e) => {
  const r = transfers.get(e.requestId);
  if (r) r.bytes = e.encodedDataLength;
});

// ---- login ----------------------------------------------------------------------------------------
let loggedIn = false;
await check('the login page appears and a wrong password is refused', async () => {
  await page.goto(base + '/', { waitUntil: 'networkidle' });
  await page.waitForSelector('#login-form');
  assert(/#\/login/.test(page.url()), 'not on #/login: ' + page.url());
  await page.screenshot({ path: join(outDir, 'login.png') });
  page.__expect401 = true;
  await page.fill('#login-user', opUser);
  await page.fill('#login-pass', opPass + '-wrong');
  await page.click('#login-btn');
  await page.waitForFunction(() => /wrong user or password/i.test(document.getElementById('login-error').textContent));
  page.__expect401 = false;
  return 'says: ' + (await page.textContent('#login-error'));
});

await check('first load is small (compressed transfer)', async () => {
  const list = [...transfers.values()];
  const total = list.reduce((s, r) => s + r.bytes, 0);
  const files = list.map((r) => r.url.replace(base, '').replace(/\?.*/, '') + ' ' + r.bytes).join(', ');
  console.log(`# first load: ${total} bytes transferred: ${files}`);
  assert(list.some((r) => /app\.js/.test(r.url)) && list.some((r) => /app\.css/.test(r.url)), 'app.js/app.css not seen: ' + files);
  assert(total > 0 && total < LIMIT_BYTES, `${total} bytes (limit ${LIMIT_BYTES})`);
  return `${(total / 1024).toFixed(1)} kB < 300 kB`;
});

loggedIn = await check(`the operator ${opUser} logs in`, async () => {
  await login(page, opUser, opPass);
  const who = await page.textContent('#who');
  assert(/operator/.test(who), 'role not shown: ' + who);
  await page.waitForSelector('[data-nav="overview"].active');
  return who.trim();
});

// ---- overview -------------------------------------------------------------------------------------
if (loggedIn) {
  await check(`the overview shows ${assetId} with its state`, async () => {
    const card = `.card[data-asset="${assetId}"]`;
    await page.waitForSelector(card);
    // The card is in the document once its badge is; give a loaded CI machine a moment for the
    // style to be resolved before reading it (one run saw the badge's background unresolved).
    await page
      .waitForFunction((sel) => {
        const b = document.querySelector(sel + ' .badge[data-state]');
        const bg = b && b.isConnected ? getComputedStyle(b).backgroundColor : '';
        return bg && bg !== 'rgba(0, 0, 0, 0)';
      }, card, { timeout: 5000 })
      .catch(() => {});
    const info = await page.$eval(card, (el) => {
      const b = el.querySelector('.badge[data-state]');
      return {
        cls: el.className,
        state: b && b.dataset.state,
        text: b && b.textContent.trim(),
        bg: b && getComputedStyle(b).backgroundColor,
        border: getComputedStyle(el).borderLeftColor,
        seen: (el.querySelector('.age') || {}).textContent,
        sheets: [...document.styleSheets].map((x) => (x.href || 'inline').replace(/^.*\//, '') + ':' + (() => { try { return x.cssRules.length; } catch (e) { return 'x'; } })()).join(' '),
      };
    });
    assert(info.state, 'no state badge');
    assert(info.cls.includes('st-' + info.state), `card class "${info.cls}" lacks st-${info.state}`);
    assert(info.text && info.text.length > 1, 'state badge without text');
    assert(info.bg && info.bg !== 'rgba(0, 0, 0, 0)', `state badge without colour (state ${info.state}, background "${info.bg}", card "${info.cls}", stylesheets ${info.sheets})`);
    assert(info.border !== 'rgb(160, 167, 173)' || ['no_data_yet', 'stopped'].includes(info.state), 'card border is the no-data grey for ' + info.state);
    await page.screenshot({ path: join(outDir, 'overview.png'), fullPage: true });
    return `${info.state}: "${info.text}", ${info.bg}, last seen ${info.seen}`;
  });

  // ---- asset page ---------------------------------------------------------------------------------
  await check('the asset page draws the velocity trend', async () => {
    await page.click(`.card[data-asset="${assetId}"] .card-title`);
    await page.waitForSelector('[data-chart="velocity"] canvas', { timeout: 15000 });
    await page.waitForFunction(() => document.querySelector('main').dataset.loaded === '1', null, { timeout: 20000 });
    await page.waitForTimeout(300);
    const n = await canvasCount(page, '[data-chart="velocity"] .chart', [31, 111, 209], 30);
    assert(n > 300, `${n} pixels of the trend's colour`);
    const iso = await canvasCount(page, '[data-chart="velocity"] .chart', null);
    return `${n} trend pixels, ${iso} drawn`;
  });

  await check('the envelope spectrum has the defect cursors', async () => {
    const sel = '[data-chart="spectrum-envelope"] .chart';
    await page.waitForFunction((s) => {
      const el = document.querySelector(s);
      return el && el.dataset.markers && JSON.parse(el.dataset.markers).length > 0;
    }, sel);
    const res = await page.$eval(sel, (el) => {
      const ms = JSON.parse(el.dataset.markers);
      const c = el.querySelector('canvas');
      const g = c.getContext('2d');
      const hex = (s) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));
      const top = Number(el.dataset.plotTop), h = Number(el.dataset.plotHeight);
      return ms.map((m) => {
        const want = hex(m.colour);
        const d = g.getImageData(Math.max(0, m.x - 1), top, 3, h).data;
        let hits = 0;
        for (let i = 0; i < d.length; i += 4)
          if (d[i + 3] > 200 && Math.abs(d[i] - want[0]) < 40 && Math.abs(d[i + 1] - want[1]) < 40 && Math.abs(d[i + 2] - want[2]) < 40) hits++;
        return { name: m.name, k: m.k, x: m.x, hits };
      });
    });
    const fams = [...new Set(res.map((r) => r.name))];
    assert(fams.includes('BPFO'), 'no BPFO cursor: ' + JSON.stringify(res));
    const missing = res.filter((r) => r.hits < 10);
    assert(!missing.length, 'cursors not drawn at ' + JSON.stringify(missing.slice(0, 5)));
    return `${res.length} cursors of ${fams.join('/')}`;
  });

  await check('the amplitude spectrum, waterfall and waveform are drawn', async () => {
    await page.waitForSelector('[data-chart="spectrum-amplitude"] canvas');
    const amp = await canvasCount(page, '[data-chart="spectrum-amplitude"] .chart', null);
    await page.waitForSelector('.waterfall-canvas');
    const wf = await page.$eval('.waterfall-canvas', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const colours = new Set();
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] < 200) continue;
        n++;
        colours.add((d[i] >> 3) * 1024 + (d[i + 1] >> 3) * 32 + (d[i + 2] >> 3));
      }
      return { n, colours: colours.size, rows: c.dataset.rows };
    });
    assert(amp > 300, `amplitude spectrum: ${amp} pixels`);
    assert(wf.n > 5000 && wf.colours > 8, `waterfall: ${wf.n} pixels in ${wf.colours} colours`);
    const wave = await page.$('[data-chart="waveform"] canvas');
    await page.screenshot({ path: join(outDir, 'asset.png'), fullPage: true });
    return `amplitude ${amp} px; waterfall ${wf.rows} rows, ${wf.colours} colours; waveform ${wave ? 'drawn' : 'none stored'}`;
  });

  await check('picking a time on the trend reloads the spectra', async () => {
    const box = await page.$eval('[data-chart="velocity"] .u-over', (el) => {
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, w: r.width, h: r.height };
    });
    await page.mouse.move(box.x + box.w * 0.5, box.y + box.h * 0.5);
    await page.mouse.click(box.x + box.w * 0.5, box.y + box.h * 0.5);
    await page.waitForSelector('.sel-line button');
    return (await page.textContent('.sel-line')).trim().slice(0, 80);
  });

  // ---- alerts -------------------------------------------------------------------------------------
  let alertId = null;
  await check('an alert is acknowledged with a note', async () => {
    const until = Date.now() + alertWaitS * 1000;
    await page.goto(base + '/#/alerts');
    for (;;) {
      await page.waitForFunction(() => document.querySelector('main').dataset.loaded === '1');
      alertId = await page.$eval('#open-alerts [data-alert-id]', (el) => el.dataset.alertId).catch(() => null);
      if (alertId || Date.now() > until) break;
      await page.waitForTimeout(2000);
      await page.reload();
    }
    assert(alertId, `no open alert within ${alertWaitS} s`);
    const item = `[data-alert-id="${alertId}"]`;
    await page.click(`${item} [data-action="ack"]`);
    await page.fill('dialog textarea[name="note"]', 'checked by the browser test');
    await page.click('dialog button[type="submit"]');
    await page.waitForSelector(`${item} .chip-ack[data-acked="${opUser}"]`);
    const text = await page.textContent(`${item} .chip-ack`);
    assert(text.includes('checked by the browser test'), 'note not shown: ' + text);
    return `#${alertId}: ${text.trim()}`;
  });

  await check('the alert is labelled a false alarm', async () => {
    assert(alertId, 'no alert');
    const item = `[data-alert-id="${alertId}"]`;
    await page.click(`${item} [data-action="label"]`);
    await page.selectOption('dialog select[name="label"]', 'false_alarm');
    await page.click('dialog button[type="submit"]');
    await page.waitForSelector(`${item} [data-label="false_alarm"]`);
    await page.screenshot({ path: join(outDir, 'alerts.png'), fullPage: true });
    return (await page.textContent(`${item} [data-label]`)).trim();
  });

  await check('the box page shows sources (every counter in view), queues, disk and versions', async () => {
    await page.goto(base + '/#/box');
    await page.waitForSelector('#sources-table tbody tr');
    await page.waitForSelector('#queues-table tbody tr');
    const rows = await page.$$eval('#sources-table tbody tr', (r) => r.length);
    const disk = await page.textContent('.metrics');
    assert(/free|可用/.test(disk), 'no disk: ' + disk);
    const versions = await page.textContent('#versions');
    assert(/libmicrohttpd \d/.test(versions) && /sqlite \d/.test(versions), 'versions: ' + versions);
    // the long source URI wraps: the table fits its frame, so rates, gaps and drops are on screen
    const fit = await page.$eval('#sources-table', (t) => [t.scrollWidth, t.parentElement.clientWidth]);
    assert(fit[0] <= fit[1] + 1, `the sources table is ${fit[0]} px wide in a ${fit[1]} px frame`);
    await page.screenshot({ path: join(outDir, 'box.png'), fullPage: true });
    return `${rows} sources; ${versions.trim()}`;
  });

  await check('Chinese: the switch translates the page and sets <html lang>', async () => {
    await page.goto(base + '/#/');
    await page.waitForSelector(`.card[data-asset="${assetId}"]`);
    await page.selectOption('#lang-sel', 'zh-CN');
    await page.waitForFunction(() => document.querySelector('[data-nav="overview"]').textContent.includes('总览'));
    const lang = await page.getAttribute('html', 'lang');
    assert(lang === 'zh-CN', 'html lang=' + lang);
    await page.waitForSelector(`.card[data-asset="${assetId}"]`);
    const badge = await page.textContent(`.card[data-asset="${assetId}"] .badge`);
    assert(/[\u4e00-\u9fff]/.test(badge), 'state not in Chinese: ' + badge);
    await page.screenshot({ path: join(outDir, 'chinese.png'), fullPage: true });
    await page.reload();
    await page.waitForSelector('[data-nav="overview"]');
    const kept = await page.textContent('[data-nav="overview"]');
    assert(kept.includes('总览'), 'the choice is not remembered: ' + kept);
    await page.selectOption('#lang-sel', 'en');
    return `nav "${kept.trim()}", state "${badge.trim()}"`;
  });

  await check('logout returns to the login page', async () => {
    await page.click('#logout-btn');
    await page.waitForSelector('#login-form');
  });
}

// ---- viewer ---------------------------------------------------------------------------------------
{
  const v = await newPage('viewer');
  await check(`the viewer ${viUser} sees no operator actions`, async () => {
    await v.page.goto(base + '/#/alerts', { waitUntil: 'networkidle' });
    await v.page.waitForSelector('#login-form');
    await login(v.page, viUser, viPass);
    await v.page.waitForFunction(() => document.querySelector('main') && document.querySelector('main').dataset.loaded === '1');
    assert(/#\/alerts/.test(v.page.url()), 'not back on the alerts page: ' + v.page.url());
    const items = await v.page.$$eval('[data-alert-id]', (l) => l.length);
    const acts = await v.page.$$eval('[data-action]', (l) => l.length);
    assert(acts === 0, `${acts} action buttons`);
    await v.page.goto(base + `/#/assets/${assetId}`);
    await v.page.waitForSelector('.page-head h1');
    await v.page.waitForSelector('[data-chart="velocity"]');
    const maint = await v.page.$('#maint-btn');
    assert(!maint, 'the maintenance button is shown');
    return `${items} alerts, no buttons`;
  });
  (await cspViolations(v.page)).forEach((x) => problems.push('viewer: CSP: ' + x));
  await v.ctx.close();
}

// ---- phone ----------------------------------------------------------------------------------------
{
  const p = await newPage('phone', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await check('phone (390×844): the overview fits the screen', async () => {
    await p.page.goto(base + '/', { waitUntil: 'networkidle' });
    await p.page.waitForSelector('#login-form');
    await login(p.page, opUser, opPass);
    await p.page.waitForSelector(`.card[data-asset="${assetId}"]`);
    const w = await p.page.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: window.innerWidth }));
    assert(w.doc <= w.win + 1, `page is ${w.doc} px wide on a ${w.win} px screen`);
    const small = await p.page.$$eval('button, .nav-link, select', (els) =>
      els.filter((e) => e.offsetParent && e.getBoundingClientRect().height < 36).map((e) => e.id || e.textContent.trim())
    );
    assert(!small.length, 'touch targets under 36 px: ' + small.join(', '));
    await p.page.screenshot({ path: join(outDir, 'phone.png'), fullPage: true });
    await p.page.click(`.card[data-asset="${assetId}"] .card-title`);
    await p.page.waitForSelector('[data-chart="velocity"] canvas');
    await p.page.waitForTimeout(500);
    const w2 = await p.page.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: window.innerWidth }));
    assert(w2.doc <= w2.win + 1, `asset page is ${w2.doc} px wide on a ${w2.win} px screen`);
    await p.page.screenshot({ path: join(outDir, 'phone-asset.png') });
    return `${w.doc} px`;
  });
  (await cspViolations(p.page)).forEach((x) => problems.push('phone: CSP: ' + x));
  await p.ctx.close();
}

(await cspViolations(page)).forEach((x) => problems.push('operator: CSP: ' + x));
await check('no console errors, exceptions or CSP violations', async () => {
  assert(!problems.length, problems.join(' | '));
});

await ctx.close();
await browser.close();
console.log(`# dashboard browser test: ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${outDir}`);
process.exit(failed ? 1 : 0);
