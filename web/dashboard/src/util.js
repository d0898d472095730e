// util.js — the small pieces every page uses: h() (elements from data, never from HTML text: asset
// names, notes and alert summaries come from users), the API client (cookie session + CSRF token),
// formatting through Intl in the chosen language, a tiny event bus, toasts and dialogs.
import { t, locale } from './i18n.js';

// h('div', {class: 'x', onclick: f, dataset: {a: 1}}, 'text', child, [more]) — text is always a
// text node. No 'style' strings: the CSP forbids inline styles in markup, CSSOM (el.style.x) is fine.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Replaces el's children (the same rules as h(): text as text, null skipped, arrays flattened).
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// ---- API ----------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export const session = { user: null, role: null, csrf: null, loginRequired: false };
const ROLES = ['viewer', 'operator', 'admin'];
export function canOperate() {
  return ROLES.indexOf(session.role) >= 1;
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (method !== 'GET') {
    if (session.csrf) headers['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let r;
  try {
    r = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, t('err.network'));
  }
  if (r.status === 204) return null;
  let data = null;
  const ct = r.headers.get('Content-Type') || '';
  if (ct.includes('json')) {
    try {
      data = await r.json();
    } catch (e) {
      data = null;
    }
  }
  if (!r.ok) {
    const msg = (data && data.error && data.error.message) || r.status + ' ' + r.statusText;
    const err = new ApiError(r.status, msg, Number(r.headers.get('Retry-After')) || 0);
    if (r.status === 401 && path !== '/login') bus.emit('unauthorized', err);
    throw err;
  }
  return data;
}

export const api = {
  get: (path, params) => request('GET', path + query(params)),
  post: (path, body) => request('POST', path, body === undefined ? {} : body),
};

export function query(params) {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? '?' + s : '';
}

export const enc = encodeURIComponent;

// ---- events -------------------------------------------------------------------------------------

const handlers = new Map();
export const bus = {
  on(name, f) {
    if (!handlers.has(name)) handlers.set(name, new Set());
    handlers.get(name).add(f);
    return () => handlers.get(name).delete(f);
  },
  emit(name, arg) {
    for (const f of [...(handlers.get(name) || [])]) {
      try {
        f(arg);
      } catch (e) {
        console.warn(e); // one broken listener must not stop the others
      }
    }
  },
};

// ---- formatting ---------------------------------------------------------------------------------

const nfCache = new Map();
export function num(v, digits = 2, opts = {}) {
  if (v == null || !Number.isFinite(v)) return '—';
  const key = locale() + digits + JSON.stringify(opts);
  let nf = nfCache.get(key);
  if (!nf) {
    nf = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: opts.fixed ? digits : 0, ...opts });
    nfCache.set(key, nf);
  }
  return nf.format(v);
}

export function pct(v, digits = 0) {
  if (v == null || !Number.isFinite(v)) return '—';
  return num(v * 100, digits) + '\u00a0%';
}

// seconds since 1970, an ISO string or a Date → seconds
export function toSec(v) {
  if (v == null) return null;
  if (typeof v === 'number') return v;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms / 1000 : null;
}

const dfCache = new Map();
function df(kind) {
  const key = locale() + kind;
  let f = dfCache.get(key);
  if (!f) {
    const o = { hour12: false };
    if (kind === 'short') Object.assign(o, { month: '2-digit', day: '2-digit' });
    else if (kind !== 'time') Object.assign(o, { year: 'numeric', month: '2-digit', day: '2-digit' });
    if (kind !== 'date') Object.assign(o, { hour: '2-digit', minute: '2-digit' });
    if (kind === 'full' || kind === 'time') o.second = '2-digit';
    f = new Intl.DateTimeFormat(locale(), o);
    dfCache.set(key, f);
  }
  return f;
}

// kind: 'full' (date and time with seconds), 'minute', 'short' (no year), 'date', 'time'
export function dateTime(v, kind = 'full') {
  const s = toSec(v);
  if (s == null) return '—';
  return df(kind).format(new Date(s * 1000));
}

// "12 s ago", "5 min ago", "3 h ago", "2 d ago"
export function ago(sec) {
  if (sec == null || !Number.isFinite(sec)) return '—';
  if (sec < 0) sec = 0;
  if (sec < 90) return t('ago.s', { n: num(Math.round(sec), 0) });
  if (sec < 5400) return t('ago.min', { n: num(Math.round(sec / 60), 0) });
  if (sec < 172800) return t('ago.h', { n: num(Math.round(sec / 3600), 0) });
  return t('ago.d', { n: num(Math.round(sec / 86400), 0) });
}

// a duration in hours → "410 h" or "17 d"
export function hours(hv) {
  if (hv == null || !Number.isFinite(hv)) return '—';
  if (Math.abs(hv) < 72) return num(hv, hv < 10 ? 1 : 0) + '\u00a0' + t('unit.h');
  return num(hv / 24, hv < 240 ? 1 : 0) + '\u00a0' + t('unit.d');
}

export function bytes(b) {
  if (b == null || !Number.isFinite(b)) return '—';
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (Math.abs(b) >= 1000 && i < u.length - 1) {
    b /= 1000;
    i++;
  }
  return num(b, i ? 1 : 0) + '\u00a0' + u[i];
}

// Seconds after which an asset without a new snapshot is shown stale: the API's stale_after_s (the
// daemon's acquisition watchdog rule: by default three snapshot intervals and a minute), else from
// its interval_s, else the default schedule's (one snapshot every 600 s).
export function staleAfter(a) {
  if (a && a.stale_after_s > 0) return a.stale_after_s;
  return 3 * (a && a.interval_s > 0 ? a.interval_s : 600) + 60;
}

// The tooltip of a stale age: how long is too long, and how often snapshots are due.
export function staleText(a) {
  return t('stale', { after: uptime(staleAfter(a)), every: uptime(a && a.interval_s > 0 ? a.interval_s : 600) });
}

export function uptime(s) {
  if (s == null || !Number.isFinite(s)) return '—';
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d) return t('uptime.dh', { d: num(d, 0), h: num(hh, 0) });
  if (hh) return t('uptime.hm', { h: num(hh, 0), m: num(mm, 0) });
  return t('uptime.ms', { m: num(mm, 0), s: num(Math.floor(s % 60), 0) });
}

export const STATES = ['ok', 'learning', 'watch', 'warning', 'alarm', 'sensor_fault', 'stopped', 'not_assessed', 'no_data_yet'];
export function stateText(s) {
  return STATES.includes(s) ? t('state.' + s) : s || '—';
}
export function stateClass(s) {
  return 'st-' + (STATES.includes(s) ? s : 'unknown');
}
export function stateBadge(s) {
  return h('span', { class: ['badge', stateClass(s)], dataset: { state: s || '' } }, stateText(s));
}
export function levelBadge(l) {
  return h('span', { class: ['badge', stateClass(l)], dataset: { level: l || '' } }, stateText(l));
}
export function diagnosisText(d) {
  if (!d) return '';
  const k = 'diag.' + d;
  const s = t(k);
  return s === k ? d.replace(/_/g, ' ') : s;
}

// ---- toasts and dialogs -------------------------------------------------------------------------

export function toast(msg, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const el = h('div', { class: ['toast', 'toast-' + kind] }, msg);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

// A modal form: fields [{name, label, type: 'textarea'|'select', options: [[value, label]]}].
// Resolves to the values, or null when cancelled.
export function formDialog({ title, text, fields = [], confirm, danger = false }) {
  return new Promise((resolve) => {
    const inputs = {};
    const body = fields.map((f) => {
      const id = 'dlg-' + f.name;
      let input;
      if (f.type === 'select') {
        input = h('select', { id, name: f.name }, f.options.map(([v, l]) => h('option', { value: v }, l)));
        if (f.value != null) input.value = f.value;
      } else {
        input = h('textarea', { id, name: f.name, rows: 3, maxlength: 1000, placeholder: f.placeholder || '' });
        if (f.value) input.value = f.value;
      }
      inputs[f.name] = input;
      return h('div', { class: 'field' }, h('label', { for: id }, f.label), input);
    });
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' });
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'dlg-title' }, title),
      text ? h('p', null, text) : null,
      body,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'btn', value: 'cancel', onclick: () => dlg.close('cancel') }, t('btn.cancel')),
        h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], value: 'ok' }, confirm || t('btn.ok'))
      )
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      dlg.close('ok');
    });
    dlg.append(form);
    dlg.addEventListener('close', () => {
      const out = {};
      for (const [k, el] of Object.entries(inputs)) out[k] = el.value;
      dlg.remove();
      resolve(dlg.returnValue === 'ok' ? out : null);
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = Object.values(inputs)[0];
    if (first) first.focus();
  });
}

export function errorPanel(err, retry) {
  return h(
    'div',
    { class: 'panel error-panel', role: 'alert' },
    h('p', null, t('err.load'), ' ', h('span', { class: 'muted' }, err && err.message ? err.message : String(err))),
    retry ? h('button', { type: 'button', class: 'btn', onclick: retry }, t('btn.retry')) : null
  );
}

// Calls f at most once every ms (trailing call kept).
export function throttle(f, ms) {
  let last = 0;
  let timer = null;
  return function () {
    const now = Date.now();
    const wait = last + ms - now;
    if (wait <= 0 && !timer) {
      last = now;
      f();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        f();
      }, Math.max(wait, 0));
    }
  };
}
