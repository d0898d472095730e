// main.js — the dashboard's shell: session (login when the box asks for it), header with navigation,
// language switch and user, the hash router (#/ overview, #/assets/ID, #/alerts, #/box, #/login),
// and the live stream (/api/v1/stream: Server-Sent Events, reconnected with backoff; every page also
// refreshes itself every 30 s in case the stream is down).
import { t, lang, setLang, LANGS } from './i18n.js';
import { h, clear, fill, api, session, bus, throttle, num, toast } from './util.js';
import { overviewPage } from './page_overview.js';
import { assetPage } from './page_asset.js';
import { alertsPage } from './page_alerts.js';
import { boxPage } from './page_box.js';
import { loginPage } from './page_login.js';

const REFRESH_MS = 30000;
const app = document.getElementById('app');
let page = null; // {refresh, destroy, onSnapshot, onAlert, onStatus}
let boxName = '';
let openAlerts = null;
let live = false;

function parseHash() {
  const raw = decodeURI(location.hash.replace(/^#/, '')) || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  return { path: path || '/', params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

function needLogin() {
  return session.loginRequired && !session.user;
}

// ---- header -------------------------------------------------------------------------------------

function header(route) {
  const cur = route.path === '/' || route.path.startsWith('/assets') ? 'overview' : route.path.slice(1);
  const link = (key, href, extra) =>
    h('a', { href, class: ['nav-link', cur === key ? 'active' : ''], 'aria-current': cur === key ? 'page' : null, dataset: { nav: key } }, t('nav.' + key), extra);
  const langSel = h(
    'select',
    { id: 'lang-sel', 'aria-label': t('lang.label') + ' / Language', onchange: () => changeLang(langSel.value) },
    LANGS.map(([code, name]) => h('option', { value: code, lang: code }, name))
  );
  langSel.value = lang();
  const showNav = !needLogin();
  return h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: '#/' }, h('img', { src: 'favicon.svg', alt: '', width: 22, height: 22 }), h('span', null, 'vibewatch'), boxName ? h('span', { class: 'box-name' }, boxName) : null),
    showNav
      ? h(
          'nav',
          { class: 'nav', 'aria-label': t('nav.label') },
          link('overview', '#/'),
          link('alerts', '#/alerts', openAlerts ? h('span', { class: 'count', id: 'alert-count', title: t('al.openh') }, num(openAlerts, 0)) : null),
          link('box', '#/box')
        )
      : null,
    h(
      'div',
      { class: 'top-right' },
      showNav ? h('span', { class: ['live', live ? 'on' : 'off'], id: 'live', title: live ? t('live.on.title') : t('live.off.title') }, live ? t('live.on') : t('live.off')) : null,
      langSel,
      session.user
        ? [
            h('span', { class: 'who', id: 'who' }, session.user, ' · ', t('role.' + session.role)),
            h('button', { type: 'button', class: 'btn btn-small', id: 'logout-btn', onclick: logout }, t('logout')),
          ]
        : !session.loginRequired && session.role
          ? h('span', { class: 'who', id: 'who' }, t('anonymous'), ' · ', t('role.' + session.role))
          : null
    )
  );
}

function changeLang(code) {
  setLang(code);
  route();
}

function setLive(on) {
  live = on;
  const el = document.getElementById('live');
  if (el) {
    el.className = 'live ' + (on ? 'on' : 'off');
    el.textContent = on ? t('live.on') : t('live.off');
    el.title = on ? t('live.on.title') : t('live.off.title');
  }
}

async function refreshAlertCount() {
  if (needLogin() || !session.role) return;
  try {
    const d = await api.get('/alerts', { state: 'open', limit: 1000 });
    openAlerts = (d.alerts || []).filter((a) => a.open !== false).length;
  } catch (e) {
    return;
  }
  const nav = document.querySelector('[data-nav="alerts"]');
  if (!nav) return;
  const old = document.getElementById('alert-count');
  if (old) old.remove();
  if (openAlerts) nav.append(h('span', { class: 'count', id: 'alert-count', title: t('al.openh') }, num(openAlerts, 0)));
}

// ---- router -------------------------------------------------------------------------------------

let refreshTimer = null;

function route() {
  const r = parseHash();
  if (needLogin() && r.path !== '/login') {
    const next = location.hash && location.hash !== '#/login' ? location.hash : '';
    location.replace('#/login' + (next ? '?next=' + encodeURIComponent(next) : ''));
    return;
  }
  if (!needLogin() && r.path === '/login') {
    location.replace(r.params.get('next') || '#/');
    return;
  }
  if (page && page.destroy) page.destroy();
  page = null;
  clear(app);
  document.title = 'vibewatch';
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  app.append(header(r), main);
  const m = r.path.match(/^\/assets\/([^/]+)$/);
  if (r.path === '/login') page = loginPage(main, r.params, loggedIn);
  else if (r.path === '/') page = overviewPage(main);
  else if (m) page = assetPage(main, decodeURIComponent(m[1]));
  else if (r.path === '/alerts') page = alertsPage(main, r.params);
  else if (r.path === '/box') page = boxPage(main);
  else main.append(h('h1', null, t('notfound')), h('p', null, h('a', { href: '#/' }, t('nav.overview'))));
  document.body.dataset.route = r.path === '/' ? 'overview' : r.path.split('/')[1];
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => {
    if (page && page.refresh && document.visibilityState !== 'hidden') page.refresh();
    refreshAlertCount();
  }, REFRESH_MS);
}

// ---- session ------------------------------------------------------------------------------------

async function loadSession() {
  const s = await api.get('/session');
  Object.assign(session, { user: s.user || null, role: s.role || null, csrf: s.csrf || null, loginRequired: !!s.login_required });
}

async function afterLogin() {
  try {
    const st = await api.get('/status');
    boxName = st.box || '';
  } catch (e) {
    boxName = '';
  }
  connectStream();
  refreshAlertCount();
}

function loggedIn(next) {
  const target = next && next.startsWith('#/') ? next : '#/';
  if (location.hash === target) route();
  else location.replace(target); // hashchange → route()
  afterLogin();
}

async function logout() {
  try {
    await api.post('/logout');
  } catch (e) {
    // the session may already be gone; fall through to the login page either way
  }
  disconnectStream();
  Object.assign(session, { user: null, role: null, csrf: null });
  try {
    await loadSession();
  } catch (e) {
    session.loginRequired = true;
  }
  openAlerts = null;
  boxName = '';
  route();
}

bus.on('alerts-changed', () => refreshAlertCount());

bus.on('unauthorized', async () => {
  if (needLogin()) return;
  try {
    await loadSession();
  } catch (e) {
    return;
  }
  if (needLogin()) {
    disconnectStream();
    toast(t('session.expired'), 'error');
    route();
  }
});

// ---- live stream --------------------------------------------------------------------------------

let es = null;
let backoff = 1000;
let retry = null;
const reloadPage = throttle(() => page && page.refresh && page.refresh(), 10000);

function connectStream() {
  disconnectStream();
  if (typeof EventSource === 'undefined') return;
  es = new EventSource('/api/v1/stream');
  const on = (name, f) =>
    es.addEventListener(name, (e) => {
      let d = null;
      try {
        d = e.data ? JSON.parse(e.data) : null;
      } catch (err) {
        return;
      }
      f(d);
    });
  es.addEventListener('open', () => {
    backoff = 1000;
    setLive(true);
  });
  on('snapshot', (d) => page && page.onSnapshot && page.onSnapshot(d));
  on('alert', (d) => {
    refreshAlertCount();
    if (page && page.onAlert) page.onAlert(d);
  });
  on('status', (d) => page && page.onStatus && page.onStatus(d));
  on('resync', () => {
    if (page && page.refresh) page.refresh();
    refreshAlertCount();
  });
  es.addEventListener('error', () => {
    setLive(false);
    reloadPage();
    if (es && es.readyState === EventSource.CLOSED) {
      // the browser gave up (an error status, 503 when too many streams): our own backoff
      es = null;
      retry = setTimeout(connectStream, backoff);
      backoff = Math.min(backoff * 2, 60000);
    }
  });
}

function disconnectStream() {
  clearTimeout(retry);
  if (es) es.close();
  es = null;
  setLive(false);
}

// ---- start --------------------------------------------------------------------------------------

async function start() {
  setLang(lang());
  try {
    await loadSession();
  } catch (e) {
    fill(app, h('main', { class: 'main' }, h('h1', null, 'vibewatch'), h('p', { class: 'form-error', role: 'alert' }, t('err.session'), ' ', e.message)));
    setTimeout(start, 10000);
    return;
  }
  route();
  if (!needLogin()) afterLogin();
}

window.addEventListener('hashchange', route);
start();
