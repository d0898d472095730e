// page_asset.js — #/assets/ID : one asset in depth. Trends (velocity with the ISO zones, envelope
// indicators per defect family, anomaly score against its threshold, health, RUL with its
// interval) over a chosen range; the amplitude and envelope spectra of one snapshot (the newest, or
// the one picked on a trend) with the bearing's defect cursors; a waterfall; the raw waveform; the
// state history; and "maintenance done" for operators. Charts are updated in place on refresh
// (setData) so a periodic refresh does not lose the reader's place.
import { t } from './i18n.js';
import { h, clear, fill, api, num, pct, ago, dateTime, toSec, stateBadge, diagnosisText, errorPanel, throttle, canOperate, formDialog, toast, enc, staleAfter, staleText } from './util.js';
import { trendChart, spectrumChart, waveformChart, waterfallChart, FAMILY } from './charts.js';
import { degradation, degradationValue, rulText, isoText, metric } from './page_overview.js';

const RANGES = [
  ['1d', 1],
  ['7d', 7],
  ['30d', 30],
  ['90d', 90],
  ['all', null],
];
const FMAX = [200, 500, 1000, 2000, 5000, 10000, 0]; // 0: up to Nyquist
const ENV_FEATURES = [
  ['bpfo_db', 'BPFO'],
  ['bpfi_db', 'BPFI'],
  ['bsf_db', 'BSF'],
  ['ftf_db', 'FTF'],
];
const TREND_A = ['velocity_rms_mm_s', 'bpfo_db', 'bpfi_db', 'bsf_db', 'ftf_db', 'anomaly', 'threshold', 'health'];
const TREND_B = ['rul_h', 'rul_lo_h', 'rul_hi_h', 'hi'];
const MAX_HARMONICS = 5;

// The frequency step between values: df_hz × max_of by web/API.md, df_hz alone by the box's
// store_reader_spectrum (which already multiplies). When the two differ, the one that puts the last
// value nearest the fmax asked for wins.
function spacing(sp, n, fmax) {
  const df = sp.df_hz || 0;
  const m = sp.max_of || 1;
  if (m === 1 || !fmax || !n) return df * m;
  const last = (s) => Math.abs(Math.log((sp.f0_hz || 0) + n * s) - Math.log(fmax));
  return last(df) < last(df * m) ? df : df * m;
}

function causeText(c) {
  const s = t('cause.' + c);
  return s === 'cause.' + c ? c.replace(/_/g, ' ') : s;
}

function panel(title, ...tools) {
  const body = h('div', { class: 'chart' });
  const el = h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h3', null, title), h('div', { class: 'tools' }, tools)), body);
  return { el, body };
}

function note(body, text) {
  fill(body, h('p', { class: 'muted empty' }, text));
}

function fmaxSelect(value, onchange, id) {
  const sel = h(
    'select',
    { id, onchange: () => onchange(Number(sel.value)) },
    FMAX.map((f) => h('option', { value: String(f) }, f ? num(f, 0) + ' Hz' : t('fmax.all')))
  );
  sel.value = String(value);
  return [h('label', { for: id, class: 'small' }, t('fmax')), sel];
}

export function assetPage(root, id) {
  const st = {
    asset: null,
    sensor: null,
    channel: null,
    range: '7d',
    selT: null, // the snapshot time picked on a trend (seconds), null: the newest
    fmax: { amplitude: 1000, envelope: 500 },
    // the defect families whose cursors are drawn (FTF's many low harmonics hide the others)
    families: { amplitude: new Set(['BPFO', 'BPFI', 'BSF']), envelope: new Set(['BPFO', 'BPFI', 'BSF']) },
    wfKind: 'amplitude',
    wfFmax: 1000,
    charts: {}, // name → uPlot
    spectrumMarkers: {},
    waterfall: null,
    destroyed: false,
  };
  const head = h('div', { class: 'page-head' }, h('p', { class: 'muted loading' }, t('loading')));
  const summary = h('div');
  const toolbar = h('div', { class: 'toolbar' });
  const trends = h('div', { class: 'grid2' });
  const selLine = h('p', { class: 'sel-line' });
  const spectra = h('div', { class: 'grid2' });
  const wfBox = h('div');
  const waveBox = h('div');
  const statesBox = h('div');
  root.append(
    h('nav', { class: 'crumbs' }, h('a', { href: '#/' }, '← ' + t('nav.overview'))),
    head,
    summary,
    toolbar,
    h('h2', null, t('a.trends')),
    trends,
    h('h2', null, t('a.spectra')),
    selLine,
    spectra,
    wfBox,
    waveBox,
    statesBox
  );

  const chan = () => ({ sensor: st.sensor, channel: st.channel });
  const channels = () => {
    const out = [];
    for (const s of (st.asset && st.asset.sensors) || []) for (const c of s.channels || []) out.push({ s, c });
    return out;
  };
  const current = () => channels().find((x) => x.s.id === st.sensor && x.c.channel === st.channel);
  const bearingFor = () => ((st.asset && st.asset.bearings) || []).find((b) => b.sensor === st.sensor);

  async function loadAsset() {
    try {
      st.asset = await api.get('/assets/' + enc(id));
    } catch (e) {
      if (e.status === 401) return false;
      fill(head, e.status === 404 ? h('h1', null, t('a.notfound', { id })) : errorPanel(e, reloadAll));
      return false;
    }
    const chs = channels();
    if (!current() && chs.length) {
      // the worst channel first: what the reader came for
      st.sensor = chs[0].s.id;
      st.channel = chs[0].c.channel;
    }
    renderHead();
    return true;
  }

  function renderHead() {
    const a = st.asset;
    document.title = (a.name || a.id) + ' · vibewatch';
    fill(head, 
      h('h1', null, a.name || a.id),
      stateBadge(a.state),
      a.diagnosis ? h('span', { class: 'diag' }, diagnosisText(a.diagnosis)) : null,
      h('span', { class: 'spacer' }),
      canOperate() ? h('button', { type: 'button', class: 'btn', id: 'maint-btn', onclick: maintenance }, t('maint.btn')) : null
    );
    const cur = current();
    const c = (cur && cur.c) || {};
    const seen = toSec(c.t || a.last_seen);
    const age = a.age_s;
    fill(summary, 
      h(
        'dl',
        { class: 'metrics wide' },
        metric(t('m.degr'), degradationValue(a)),
        metric(t('m.rul'), rulText(a)),
        metric(t('m.pfail'), [pct(a.p_fail_7d), ' / ', pct(a.p_fail_14d)]),
        metric(t('m.iso'), isoText(a.iso_zone, a.velocity_rms_mm_s)),
        metric(t('m.shaft'), a.shaft_hz != null ? num(a.shaft_hz, 2) + ' Hz · ' + num(a.shaft_hz * 60, 0) + ' rpm' : '—'),
        metric(t('m.seen'), h('span', { class: ['age', age > staleAfter(a) ? 'stale' : ''], title: [seen ? dateTime(seen) : '', age > staleAfter(a) ? staleText(a) : ''].filter(Boolean).join(' · ') }, age != null ? ago(age) : seen ? dateTime(seen) : t('never')))
      ),
      c.cause || c.reason ? h('p', { class: 'muted small' }, t('a.reason'), ' ', causeText(c.cause || c.reason)) : null
    );
    renderToolbar();
  }

  function renderToolbar() {
    const chs = channels();
    const parts = [];
    if (chs.length > 1) {
      const sel = h(
        'select',
        {
          id: 'chan-sel',
          onchange: () => {
            const [s, c] = JSON.parse(sel.value);
            st.sensor = s;
            st.channel = c;
            st.selT = null;
            renderHead();
            loadData(true);
          },
        },
        chs.map(({ s, c }) => h('option', { value: JSON.stringify([s.id, c.channel]) }, (s.name || s.id) + ' · ' + c.channel + ' — ' + (t('state.' + c.state) || c.state)))
      );
      sel.value = JSON.stringify([st.sensor, st.channel]);
      parts.push(h('div', { class: 'field-inline' }, h('label', { for: 'chan-sel' }, t('a.channel')), sel));
    }
    parts.push(
      h(
        'div',
        { class: 'seg', role: 'group', 'aria-label': t('a.range') },
        h('span', { class: 'seg-label' }, t('a.range')),
        RANGES.map(([k]) =>
          h(
            'button',
            {
              type: 'button',
              class: 'btn seg-btn',
              'aria-pressed': String(st.range === k),
              dataset: { range: k },
              onclick: () => {
                st.range = k;
                renderToolbar();
                loadData(false);
              },
            },
            t('range.' + k)
          )
        )
      )
    );
    fill(toolbar, ...parts);
  }

  // the range [from, to] in seconds, or null when the channel has no data yet
  async function range() {
    const cur = current();
    const newest = cur && toSec(cur.c.t);
    if (newest == null) return null;
    const days = RANGES.find((r) => r[0] === st.range)[1];
    if (days) return { from: newest - days * 86400, to: newest };
    const first = toSec(cur.c.t_first);
    if (first != null) return { from: first, to: newest };
    // the first data: a coarse look over everything, then a finer one inside the first bucket
    let from = 0;
    for (let pass = 0; pass < 2; pass++) {
      const q = { ...chan(), features: 'velocity_rms_mm_s', from, to: newest, points: 400 };
      const tr = await api.get('/assets/' + enc(id) + '/trend', q);
      const m = tr.series && tr.series.velocity_rms_mm_s && tr.series.velocity_rms_mm_s.mean;
      const i = m ? m.findIndex((v) => v != null) : -1;
      if (i < 0) break;
      from = tr.t[i];
    }
    return { from: Math.min(from, newest - 3600), to: newest };
  }

  function chartWidth(el) {
    return Math.max(200, Math.min(5000, Math.round(el.clientWidth || 600)));
  }

  async function loadTrends(r) {
    if (!st.charts._panels) {
      const mk = (key, title) => {
        const p = panel(title);
        p.el.dataset.chart = key;
        trends.append(p.el);
        return p;
      };
      st.charts._panels = {
        vel: mk('velocity', t('c.velocity')),
        env: mk('envelope', t('c.envind')),
        anom: mk('anomaly', t('c.anomaly')),
        health: mk('health', t('c.health')),
        rul: mk('rul', t('c.rul')),
      };
    }
    const P = st.charts._panels;
    if (!r) {
      for (const p of Object.values(P)) note(p.body, t('a.nodata'));
      return;
    }
    const points = chartWidth(P.vel.body);
    const base = { ...chan(), from: r.from.toFixed(3), to: r.to.toFixed(3), points };
    let A, B;
    try {
      [A, B] = await Promise.all([
        api.get('/assets/' + enc(id) + '/trend', { ...base, features: TREND_A.join(',') }),
        api.get('/assets/' + enc(id) + '/trend', { ...base, features: TREND_B.join(',') }).catch(() => null),
      ]);
    } catch (e) {
      if (e.status !== 401) for (const p of Object.values(P)) fill(p.body, errorPanel(e, () => loadData(false)));
      return;
    }
    if (st.destroyed) return;
    st.bucket = A.bucket_s || 0;
    const rawT = A.t || [];
    const rawS = (tr, k, f) => (tr && tr.series && tr.series[k] && tr.series[k][f]) || rawT.map(() => null);
    // Snapshots may be sparser than the buckets (one every 10 min in 1-min buckets): keep only the
    // buckets with data so the lines join, with a break (null) where the data has a real gap.
    const keep = [];
    for (let i = 0; i < rawT.length; i++) if ([A, B].some((tr) => tr && tr.series && Object.values(tr.series).some((s) => s.mean && s.mean[i] != null))) keep.push(i);
    const steps = keep.slice(1).map((k, j) => rawT[k] - rawT[keep[j]]).sort((a, b) => a - b);
    const gap = steps.length ? Math.max(steps[Math.floor(steps.length / 2)] * 5, (st.bucket || 0) * 2) : Infinity;
    const idx = [];
    keep.forEach((k, j) => {
      if (j && rawT[k] - rawT[keep[j - 1]] > gap) idx.push(-1);
      idx.push(k);
    });
    const tt = idx.map((k, j) => (k >= 0 ? rawT[k] : (rawT[idx[j - 1]] + rawT[idx[j + 1]]) / 2));
    const S = (tr, k, f = 'mean') => {
      const s = rawS(tr, k, f);
      return idx.map((i) => (i >= 0 ? s[i] : null));
    };
    const pick = (tv) => {
      st.selT = tv + (st.bucket || 0);
      redrawTrends();
      loadSpectra();
      loadWaveform();
    };
    const sel = () => st.selT;
    const common = { sync: 'trend-' + id, onPick: pick, selected: sel };
    const put = (key, body, mk, data) => {
      const u = st.charts[key];
      if (u && u._nser === data.length && u.root.isConnected) {
        u.setData(data);
        return;
      }
      if (u) u.destroy();
      clear(body);
      if (!tt.length) {
        note(body, t('a.nodata'));
        return;
      }
      const nu = mk();
      nu._nser = data.length;
      st.charts[key] = nu;
    };
    // velocity with its min/max band and the ISO zones
    const vd = [tt, S(A, 'velocity_rms_mm_s'), S(A, 'velocity_rms_mm_s', 'min'), S(A, 'velocity_rms_mm_s', 'max')];
    const iso = A.iso_bands_mm_s && A.iso_bands_mm_s.length === 3 ? A.iso_bands_mm_s : null;
    put('vel', P.vel.body, () =>
      trendChart(P.vel.body, {
        ...common,
        data: vd,
        isoBands: iso,
        yRange: (u, mn, mx) => [0, Math.max((mx || 0) * 1.1, iso ? iso[1] * 1.15 : 1)],
        yFmt: (v) => num(v, 2),
        series: [
          { label: t('c.velocity.mean') + ' (mm/s)', color: '#1f6fd1', width: 2 },
          { label: 'min', color: 'rgba(31,111,209,0.35)', width: 1 },
          { label: 'max', color: 'rgba(31,111,209,0.35)', width: 1 },
        ],
        bands: [[3, 2, 'rgba(31,111,209,0.12)']],
      }), vd);
    const ed = [tt, ...ENV_FEATURES.map(([k]) => S(A, k))];
    put('env', P.env.body, () =>
      trendChart(P.env.body, { ...common, data: ed, yFmt: (v) => num(v, 1), series: ENV_FEATURES.map(([k, n]) => ({ label: n + ' (dB)', color: FAMILY[n] })) }), ed);
    const pos = (arr) => arr.map((v) => (v != null && v > 0 ? v : null)); // a log scale shows only > 0
    const ad = [tt, pos(S(A, 'anomaly')), pos(S(A, 'health')), pos(S(A, 'threshold'))];
    put('anom', P.anom.body, () =>
      trendChart(P.anom.body, {
        ...common,
        data: ad,
        logY: true,
        yFmt: (v) => num(v, v < 1 ? 3 : 1),
        series: [
          { label: t('c.anomaly.score'), color: 'rgba(224,123,0,0.55)', width: 1 },
          { label: t('c.anomaly.smoothed'), color: '#c25e00', width: 2 },
          { label: t('c.anomaly.threshold'), color: '#d62728', dash: [6, 4], width: 1.5 },
        ],
      }), ad);
    const deg = degradation(st.asset) || {};
    const hiS = pos(S(B, 'hi'));
    const hd = [tt, hiS, tt.map(() => (deg.limit > 0 ? deg.limit : null))];
    if (hiS.every((v) => v == null)) {
      if (st.charts.health) st.charts.health.destroy();
      st.charts.health = null;
      note(P.health.body, t('c.health.none'));
    } else
      put('health', P.health.body, () =>
        trendChart(P.health.body, {
          ...common,
          data: hd,
          logY: true,
          yFmt: (v) => num(v, v < 1 ? 2 : 1),
          series: [
            { label: t('c.health.hi'), color: '#2e7d32', width: 2 },
            { label: t('c.health.limit'), color: '#d62728', dash: [6, 4], width: 1.5 },
          ],
        }), hd);
    const rd = [tt, S(B, 'rul_h'), S(B, 'rul_lo_h'), S(B, 'rul_hi_h')];
    if (rd[1].every((v) => v == null)) {
      if (st.charts.rul) st.charts.rul.destroy();
      st.charts.rul = null;
      note(P.rul.body, t('c.rul.none'));
    } else {
      put('rul', P.rul.body, () =>
        trendChart(P.rul.body, {
          ...common,
          data: rd,
          yRange: (u, mn, mx) => [0, (mx || 1) * 1.1],
          yFmt: (v) => num(v / 24, 1) + ' ' + t('unit.d'),
          series: [
            { label: t('c.rul.median'), color: '#6a3d9a', width: 2 },
            { label: t('c.rul.lo'), color: 'rgba(106,61,154,0.4)', width: 1 },
            { label: t('c.rul.hi'), color: 'rgba(106,61,154,0.4)', width: 1 },
          ],
          bands: [[3, 2, 'rgba(106,61,154,0.15)']],
        }), rd);
    }
  }

  function redrawTrends() {
    for (const k of ['vel', 'env', 'anom', 'health', 'rul']) if (st.charts[k]) st.charts[k].redraw(false, false);
    renderSelLine();
  }

  function renderSelLine() {
    fill(selLine, 
      st.selT == null ? t('a.sel.newest') : t('a.sel.at', { time: dateTime(st.selT, 'minute') }),
      ' ',
      h('span', { class: 'muted small' }, t('a.sel.hint')),
      st.selT != null
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              onclick: () => {
                st.selT = null;
                redrawTrends();
                loadSpectra();
                loadWaveform();
              },
            },
            t('a.sel.reset')
          )
        : null
    );
  }

  async function loadSpectrum(kind) {
    const key = 'spec-' + kind;
    if (!st.charts['p-' + kind]) {
      const p = panel(kind === 'amplitude' ? t('c.amp') : t('c.env'), ...fmaxSelect(st.fmax[kind], (f) => {
        st.fmax[kind] = f;
        loadSpectrum(kind);
      }, 'fmax-' + kind));
      p.el.dataset.chart = 'spectrum-' + kind;
      p.legend = h('div', { class: 'marker-legend' });
      p.el.append(p.legend);
      spectra.append(p.el);
      st.charts['p-' + kind] = p;
    }
    const p = st.charts['p-' + kind];
    const q = { ...chan(), kind, points: chartWidth(p.body) };
    if (st.fmax[kind]) q.fmax = st.fmax[kind];
    const cur = current();
    p.fmaxAsked = st.fmax[kind] || (cur && cur.s.rate_hz ? cur.s.rate_hz / 2 : 0);
    if (st.selT != null) q.t = st.selT.toFixed(3);
    let sp;
    try {
      sp = await api.get('/assets/' + enc(id) + '/spectrum', q);
    } catch (e) {
      if (st.charts[key]) st.charts[key].destroy();
      st.charts[key] = null;
      p.sp = null;
      if (e.status === 404) note(p.body, t('a.nospectrum'));
      else if (e.status !== 401) fill(p.body, errorPanel(e, () => loadSpectrum(kind)));
      clear(p.legend);
      return;
    }
    if (st.destroyed) return;
    p.sp = sp;
    drawSpectrum(kind);
  }

  // the spectrum with the cursors of the families switched on (at most MAX_HARMONICS each)
  function drawSpectrum(kind) {
    const key = 'spec-' + kind;
    const p = st.charts['p-' + kind];
    const sp = p && p.sp;
    if (!sp) return;
    const vals = sp.values || [];
    const step = spacing(sp, vals.length, p.fmaxAsked);
    const x = vals.map((v, i) => (sp.f0_hz || 0) + i * step);
    const all = (sp.markers || []).filter((m) => FAMILY[m.name]);
    const on = st.families[kind];
    const markers = all.filter((m) => on.has(m.name)).map((m) => ({ ...m, harmonics: (m.harmonics || [m.hz]).slice(0, MAX_HARMONICS) }));
    if (st.charts[key]) st.charts[key].destroy();
    st.charts[key] = null;
    clear(p.body);
    if (!vals.length) {
      note(p.body, t('a.nospectrum'));
      return;
    }
    st.charts[key] = spectrumChart(p.body, { x, y: vals, unit: sp.unit || 'g', markers, height: 240 });
    p.body.dataset.t = sp.t || '';
    fill(
      p.legend,
      h('span', { class: 'muted small' }, dateTime(sp.t), sp.shaft_hz ? ' · ' + t('m.shaft') + ' ' + num(sp.shaft_hz, 2) + ' Hz' : ''),
      all.map((m) =>
        h(
          'button',
          {
            type: 'button',
            class: ['fam', 'fam-' + m.name.toLowerCase()],
            'aria-pressed': String(on.has(m.name)),
            title: t('a.fam.toggle'),
            onclick: () => {
              if (on.has(m.name)) on.delete(m.name);
              else on.add(m.name);
              drawSpectrum(kind);
            },
          },
          m.name + ' ' + num(m.hz, 1) + ' Hz'
        )
      ),
      !all.length ? h('span', { class: 'muted small' }, t('a.nomarkers')) : null
    );
  }

  function loadSpectra() {
    renderSelLine();
    return Promise.all([loadSpectrum('amplitude'), loadSpectrum('envelope')]);
  }

  async function loadWaterfall(r) {
    if (!st.wfPanel) {
      const kindSel = h(
        'select',
        {
          id: 'wf-kind',
          onchange: () => {
            st.wfKind = kindSel.value;
            loadWaterfall(st.lastRange);
          },
        },
        h('option', { value: 'amplitude' }, t('kind.amplitude')),
        h('option', { value: 'envelope' }, t('kind.envelope'))
      );
      kindSel.value = st.wfKind;
      const p = panel(
        t('c.waterfall'),
        h('label', { for: 'wf-kind', class: 'small' }, t('kind')),
        kindSel,
        ...fmaxSelect(st.wfFmax, (f) => {
          st.wfFmax = f;
          loadWaterfall(st.lastRange);
        }, 'fmax-wf')
      );
      p.el.dataset.chart = 'waterfall';
      p.caption = h('p', { class: 'muted small' });
      p.el.append(p.caption);
      wfBox.append(p.el);
      st.wfPanel = p;
    }
    const p = st.wfPanel;
    if (!r) return note(p.body, t('a.nodata'));
    const q = { ...chan(), kind: st.wfKind, from: r.from.toFixed(3), to: r.to.toFixed(3), rows: 60, points: Math.min(1000, chartWidth(p.body)) };
    if (st.wfFmax) q.fmax = st.wfFmax;
    let wf;
    try {
      wf = await api.get('/assets/' + enc(id) + '/waterfall', q);
    } catch (e) {
      if (e.status === 404) note(p.body, t('a.nospectrum'));
      else if (e.status !== 401) fill(p.body, errorPanel(e, () => loadWaterfall(st.lastRange)));
      return;
    }
    if (st.destroyed) return;
    if (st.waterfall) st.waterfall.destroy();
    clear(p.body);
    if (!wf.db || !wf.db.length) {
      note(p.body, t('a.nospectrum'));
      p.caption.textContent = '';
      return;
    }
    if (wf.db.every((row) => row.every((v) => v == null || v <= -199))) {
      note(p.body, t('c.waterfall.floor'));
      p.caption.textContent = '';
      return;
    }
    st.waterfall = waterfallChart(p.body, wf, 300);
    const lo = num(Number(st.waterfall.canvas.dataset.dbLo), 0);
    const hi = num(Number(st.waterfall.canvas.dataset.dbHi), 0);
    st.waterfall.canvas.setAttribute('aria-label', t('c.waterfall.aria', { rows: wf.db.length, lo, hi }));
    p.caption.textContent = t('c.waterfall.caption', { rows: num(wf.db.length, 0), lo, hi });
  }

  async function loadWaveform() {
    if (!st.wavePanel) {
      st.wavePanel = panel(t('c.waveform'));
      st.wavePanel.el.dataset.chart = 'waveform';
      st.wavePanel.caption = h('p', { class: 'muted small' });
      st.wavePanel.el.append(st.wavePanel.caption);
      waveBox.append(st.wavePanel.el);
    }
    const p = st.wavePanel;
    const q = { ...chan(), points: chartWidth(p.body) };
    if (st.selT != null) q.t = st.selT.toFixed(3);
    let w;
    try {
      w = await api.get('/assets/' + enc(id) + '/waveform', q);
    } catch (e) {
      if (st.charts.wave) st.charts.wave.destroy();
      st.charts.wave = null;
      if (e.status === 404) note(p.body, t('a.nowaveform'));
      else if (e.status !== 401) fill(p.body, errorPanel(e, loadWaveform));
      p.caption.textContent = '';
      return;
    }
    if (st.destroyed) return;
    if (st.charts.wave) st.charts.wave.destroy();
    clear(p.body);
    const mn = w.min || [];
    if (!mn.length) return note(p.body, t('a.nowaveform'));
    const dt = ((w.step || 1) / (w.rate_hz || 1)) * 1000;
    st.charts.wave = waveformChart(p.body, { x: mn.map((v, i) => i * dt), min: mn, max: w.max || mn, unit: w.unit || 'g' });
    p.caption.textContent = t('c.waveform.caption', { time: dateTime(w.t), n: num(w.n, 0), rate: num(w.rate_hz, 0) });
  }

  async function loadStates(r) {
    const q = { limit: 200 };
    if (r) {
      q.from = r.from.toFixed(3);
      q.to = r.to.toFixed(3);
    }
    let d;
    try {
      d = await api.get('/assets/' + enc(id) + '/states', q);
    } catch (e) {
      if (e.status !== 401) fill(statesBox, h('h2', null, t('a.states')), errorPanel(e, () => loadStates(r)));
      return;
    }
    if (st.destroyed) return;
    const ch = (d.changes || []).slice().sort((a, b) => toSec(b.t) - toSec(a.t));
    fill(statesBox, 
      h('h2', null, t('a.states')),
      ch.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'table', id: 'states-table' },
              h('thead', null, h('tr', null, h('th', null, t('col.time')), h('th', null, t('a.channel')), h('th', null, t('col.from')), h('th', null, t('col.to')))),
              h('tbody', null, ch.map((c) => h('tr', null, h('td', null, dateTime(c.t)), h('td', null, c.sensor + ' · ' + c.channel), h('td', null, stateBadge(c.from)), h('td', null, stateBadge(c.to)))))
            )
          )
        : h('p', { class: 'muted' }, t('a.nostates'))
    );
  }

  async function loadData(resetPanels) {
    if (resetPanels) {
      for (const [k, u] of Object.entries(st.charts)) if (u && u.destroy && !k.startsWith('p-') && k !== '_panels') u.destroy();
      st.charts = {};
      clear(trends);
      clear(spectra);
      clear(wfBox);
      clear(waveBox);
      st.wfPanel = st.wavePanel = null;
    }
    let r = null;
    try {
      r = await range();
    } catch (e) {
      r = null;
    }
    st.lastRange = r;
    renderSelLine();
    await Promise.all([loadTrends(r), loadSpectra(), loadWaterfall(r), loadWaveform(), loadStates(r)]);
    root.dataset.loaded = '1';
  }

  async function reloadAll() {
    if (await loadAsset()) await loadData(false);
  }

  async function maintenance() {
    const v = await formDialog({
      title: t('maint.title', { name: st.asset.name || id }),
      text: t('maint.text'),
      fields: [{ name: 'note', label: t('note'), placeholder: t('maint.placeholder') }],
      confirm: t('maint.confirm'),
    });
    if (!v) return;
    try {
      await api.post('/assets/' + enc(id) + '/maintenance', { note: v.note });
      toast(t('maint.done'), 'ok');
      loadAsset();
    } catch (e) {
      toast(t('err.action') + ' ' + e.message, 'error');
    }
  }

  const refreshHead = throttle(loadAsset, 5000);
  reloadAll();

  return {
    refresh: reloadAll,
    onSnapshot(ev) {
      if (ev.asset === id) refreshHead();
    },
    destroy() {
      st.destroyed = true;
      for (const u of Object.values(st.charts)) if (u && typeof u.destroy === 'function' && u.root) u.destroy();
      if (st.waterfall) st.waterfall.destroy();
    },
  };
}
