// page_overview.js — #/ : every asset as a card, the API's `attention` list first; live through the
// stream (a snapshot patches its card at once and schedules a reload of the whole list).
import { t } from './i18n.js';
import { h, clear, api, num, pct, ago, hours, dateTime, stateBadge, stateClass, diagnosisText, errorPanel, throttle, STATES, enc, staleAfter, staleText } from './util.js';

// The worst channel's health indicator relative to its failure limit (hi / hi_limit: 1 = the limit
// at which the model calls the machine failed), or null while learning.
export function degradation(a) {
  let best = null;
  for (const s of a.sensors || [])
    for (const c of s.channels || [])
      if (c.hi != null && c.hi_limit > 0 && (!best || c.hi / c.hi_limit > best.hi / best.limit)) best = { hi: c.hi, limit: c.hi_limit };
  if (!best && a.hi != null && a.hi_limit > 0) best = { hi: a.hi, limit: a.hi_limit };
  return best;
}

export function degradationValue(a) {
  const d = degradation(a);
  if (!d) return a.health != null ? num(a.health, 2) : '—';
  const f = d.hi / d.limit;
  const bar = h('span', { class: 'bar', role: 'presentation' });
  const fillEl = h('span', { class: ['bar-fill', f < 0.5 ? 'good' : f < 1 ? 'mid' : 'low'] });
  fillEl.style.width = Math.max(0, Math.min(1, f)) * 100 + '%';
  bar.append(fillEl);
  return h('span', { title: t('m.degr.title') }, bar, ' ', num(d.hi, d.hi < 10 ? 2 : 1), h('span', { class: 'muted' }, ' / ' + num(d.limit, 1)));
}

// "17 d (10–29 d)"; "> horizon" when the model runs but sees no end in its horizon.
export function rulText(o) {
  if (o.rul_h != null && Number.isFinite(o.rul_h)) {
    const iv = o.rul_lo_h != null && o.rul_hi_h != null ? [' ', h('span', { class: 'muted', title: t('rul.interval') }, '(' + hours(o.rul_lo_h) + ' – ' + hours(o.rul_hi_h) + ')')] : [];
    return [hours(o.rul_h), ...iv];
  }
  if (o.health != null && ['ok', 'watch', 'warning', 'alarm'].includes(o.state)) return [h('span', { title: t('rul.beyond.title') }, t('rul.beyond'))];
  return ['—'];
}

export function isoText(zone, v) {
  return [
    zone ? h('span', { class: ['zone', 'zone-' + zone], title: t('iso.title') }, zone) : '—',
    ' ',
    v != null ? num(v, 2) + '\u00a0mm/s' : '',
  ];
}

export function metric(label, value, extra) {
  return h('div', { class: ['metric', extra] }, h('dt', null, label), h('dd', null, value));
}

export function overviewPage(root) {
  let data = null;
  let failed = null;
  const body = h('div', { class: 'overview' }, h('p', { class: 'muted loading' }, t('loading')));
  root.append(h('div', { class: 'page-head' }, h('h1', null, t('nav.overview')), h('span', { class: 'muted', id: 'ov-updated' })), body);

  async function load() {
    try {
      const d = await api.get('/assets');
      const now = Date.now();
      for (const a of d.assets || []) a._seenAt = a.age_s != null ? now - a.age_s * 1000 : null;
      data = d;
      failed = null;
    } catch (e) {
      if (e.status === 401) return;
      failed = e;
    }
    render();
  }
  const reload = throttle(load, 3000);

  function card(a) {
    const chs = [];
    for (const s of a.sensors || []) for (const c of s.channels || []) chs.push(c);
    const href = '#/assets/' + enc(a.id);
    const alert = a.alert && a.alert.id != null
      ? h('a', { class: ['chip', stateClass(a.alert.level)], href: '#/alerts' }, t('alert.chip', { id: a.alert.id }), ' · ', a.alert.acked ? t('alert.acked') : t('alert.unacked'))
      : null;
    const el = h(
      'article',
      { class: ['card', stateClass(a.state)], dataset: { asset: a.id } },
      h('header', { class: 'card-head' }, h('a', { class: 'card-title', href }, a.name || a.id), h('span', { class: 'muted small' }, a.id + (a.type ? ' · ' + a.type : ''))),
      h('div', { class: 'card-state' }, stateBadge(a.state), a.diagnosis ? h('span', { class: 'diag' }, diagnosisText(a.diagnosis)) : null, alert),
      h(
        'dl',
        { class: 'metrics' },
        metric(t('m.degr'), degradationValue(a)),
        metric(t('m.rul'), rulText(a)),
        metric(t('m.pfail'), [pct(a.p_fail_7d), ' / ', pct(a.p_fail_14d)]),
        metric(t('m.iso'), isoText(a.iso_zone, a.velocity_rms_mm_s)),
        metric(t('m.seen'), h('span', { class: 'age' }, '—'))
      )
    );
    el.addEventListener('click', (e) => {
      if (!e.target.closest('a,button')) location.hash = href;
    });
    el._asset = a;
    el.title = chs.length > 1 ? t('ov.channels', { n: chs.length }) : '';
    updateAge(el);
    return el;
  }

  function updateAge(el) {
    const a = el._asset;
    const span = el.querySelector('.age');
    if (!span) return;
    if (a._seenAt == null) {
      span.textContent = t('never');
      return;
    }
    const age = (Date.now() - a._seenAt) / 1000;
    const stale = age > staleAfter(a); // the daemon's own rule for "acquisition stopped"
    span.textContent = ago(age);
    span.classList.toggle('stale', stale);
    span.title = stale ? staleText(a) : '';
  }

  function render() {
    clear(body);
    if (failed && !data) {
      body.append(errorPanel(failed, load));
      return;
    }
    if (!data) return;
    if (failed) body.append(h('p', { class: 'warn-line', role: 'status' }, t('err.stale'), ' ', failed.message));
    const assets = data.assets || [];
    const byId = new Map(assets.map((a) => [a.id, a]));
    const att = (data.attention || []).filter((id) => byId.has(id));
    // counts per state
    const counts = {};
    for (const a of assets) counts[a.state] = (counts[a.state] || 0) + 1;
    body.append(
      h(
        'ul',
        { class: 'summary', 'aria-label': t('ov.summary') },
        STATES.filter((s) => counts[s]).map((s) => h('li', { class: ['badge', stateClass(s)] }, num(counts[s], 0) + ' ' + t('state.' + s)))
      )
    );
    if (!assets.length) {
      body.append(h('p', { class: 'muted' }, t('ov.none')));
      return;
    }
    if (att.length) {
      body.append(h('section', { class: 'attention', 'aria-labelledby': 'att-h' }, h('h2', { id: 'att-h' }, t('ov.attention')), h('div', { class: 'cards' }, att.map((id) => card(byId.get(id))))));
    }
    const rest = assets.filter((a) => !att.includes(a.id));
    if (rest.length)
      body.append(h('section', { 'aria-labelledby': 'all-h' }, h('h2', { id: 'all-h' }, att.length ? t('ov.others') : t('ov.all')), h('div', { class: 'cards' }, rest.map(card))));
    const up = document.getElementById('ov-updated');
    if (up) up.textContent = t('updated', { time: dateTime(Date.now() / 1000, 'time') });
  }

  const ticker = setInterval(() => body.querySelectorAll('.card').forEach(updateAge), 5000);
  load();

  return {
    refresh: load,
    onSnapshot(ev) {
      if (!data) return;
      const a = (data.assets || []).find((x) => x.id === ev.asset);
      if (!a) return reload();
      a._seenAt = Date.now();
      const chs = [];
      for (const s of a.sensors || []) for (const c of s.channels || []) chs.push([s, c]);
      if (chs.length === 1) {
        // the asset is its one channel: its numbers are the snapshot's
        for (const k of ['state', 'health', 'rul_h']) if (ev[k] !== undefined) a[k] = ev[k];
        if (ev.velocity_rms_mm_s !== undefined) a.velocity_rms_mm_s = ev.velocity_rms_mm_s;
      }
      const old = body.querySelector(`.card[data-asset="${CSS.escape(a.id)}"]`);
      if (old) old.replaceWith(card(a));
      reload();
    },
    destroy() {
      clearInterval(ticker);
    },
  };
}
