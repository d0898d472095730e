// charts.js — uPlot charts sized to their container (trends with ISO zone bands, spectra with defect
// cursors, waveforms) and the waterfall on its own canvas. Colours come from the CSS custom
// properties so that the charts follow the light/dark theme; uPlot itself comes from the
// concatenated uPlot.iife.min.js (the global `uPlot`).
import { h, num, dateTime } from './util.js';
import { locale } from './i18n.js';

/* global uPlot */

export function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function theme() {
  return {
    fg: cssVar('--fg', '#1d2733'),
    muted: cssVar('--muted', '#5b6773'),
    grid: cssVar('--grid', 'rgba(0,0,0,0.08)'),
    panel: cssVar('--panel', '#ffffff'),
    accent: cssVar('--accent', '#1f6fd1'),
  };
}

// Defect family colours (also used by the legend chips in CSS: .fam-bpfo …).
export const FAMILY = {
  BPFO: '#d62728',
  BPFI: '#1f77b4',
  BSF: '#2ca02c',
  FTF: '#9467bd',
};
export const ISO_FILL = ['rgba(46,158,68,0.13)', 'rgba(160,200,40,0.15)', 'rgba(240,140,0,0.15)', 'rgba(214,39,40,0.15)'];

const dpr = () => window.devicePixelRatio || 1;

// 3 significant digits, in exponent form for the very small values of squared envelopes (g²)
export function sig(v) {
  if (v == null || !Number.isFinite(v)) return '—';
  if (v !== 0 && Math.abs(v) < 1e-3) {
    const m = v / 10 ** Math.floor(Math.log10(Math.abs(v))); // the mantissa, 1 ≤ |m| < 10
    return v.toExponential(Math.abs(m - Math.round(m)) < 0.05 ? 0 : 1).replace('-', '−');
  }
  return num(v, 20, { maximumSignificantDigits: 3 });
}

// Axis labels for a time axis in the chosen locale: time of day within a day, the date at day steps
// and wherever the day changes.
function timeAxisValues(u, splits, axisIdx, space, incr) {
  const dOpt = { month: '2-digit', day: '2-digit' };
  const dayF = new Intl.DateTimeFormat(locale(), dOpt);
  const timeF = new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', hour12: false });
  let prevDay = null;
  return splits.map((s) => {
    if (s == null) return '';
    const d = new Date(s * 1000);
    const day = dayF.format(d);
    let out;
    if (incr >= 86400) out = day;
    else out = prevDay === day ? timeF.format(d) : timeF.format(d) + '\n' + day;
    prevDay = day;
    return out;
  });
}

function axis(t, extra) {
  return Object.assign(
    {
      stroke: t.muted,
      grid: { stroke: t.grid, width: 1 },
      ticks: { stroke: t.grid, width: 1 },
      font: '11px system-ui, sans-serif',
    },
    extra
  );
}

// A chart in `container`, kept at the container's width. opts: uPlot options without width.
export function makeChart(container, opts, data, height) {
  const width = Math.max(200, container.clientWidth || 600);
  const u = new uPlot(Object.assign({ width, height }, opts), data, container);
  const ro = new ResizeObserver(() => {
    const w = Math.max(200, container.clientWidth);
    if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
  });
  ro.observe(container);
  const destroy = u.destroy.bind(u);
  u.destroy = () => {
    ro.disconnect();
    destroy();
  };
  return u;
}

// A trend chart: x = seconds. series: [{label, color, dash, width, fmt}], data: [t, ...ys].
// o: {yFmt, yRange, isoBands, bands: [[upperIdx, lowerIdx, fill]], sync, onPick, selected()}
export function trendChart(container, { series, data, height = 200, yFmt, yRange, logY, isoBands, bands, sync, onPick, selected }) {
  const t = theme();
  const s = [{ value: (u, v) => (v == null ? '—' : dateTime(v, 'minute')) }];
  for (const se of series) {
    s.push({
      label: se.label,
      stroke: se.color,
      width: se.width || 1.5,
      dash: se.dash,
      points: { size: 4 },
      value: (u, v) => (v == null ? '—' : (yFmt ? yFmt(v) : num(v, 3))),
      show: se.show !== false,
    });
  }
  const opts = {
    class: 'vw-chart',
    series: s,
    scales: { x: { time: true }, y: logY ? { distr: 3, log: 10 } : { range: yRange } },
    axes: [
      axis(t, { values: timeAxisValues, space: 60 }),
      axis(t, {
        size: 56,
        // on a log scale only the powers of ten are labelled (the other ticks stay as grid lines)
        values: (u, vals) => vals.map((v) => (v == null ? '' : logY && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) > 1e-6 ? '' : yFmt ? yFmt(v) : sig(v))),
      }),
    ],
    legend: { live: true },
    cursor: { sync: sync ? { key: sync } : undefined, drag: { x: false, y: false } },
    bands: bands ? bands.map(([a, b, fill]) => ({ series: [a, b], fill })) : undefined,
    hooks: {
      drawClear: [
        (u) => {
          if (isoBands) drawIsoBands(u, isoBands);
        },
      ],
      draw: [
        (u) => {
          const sel = selected && selected();
          if (sel == null) return;
          const x = Math.round(u.valToPos(sel, 'x', true));
          const { left, top, width, height: hh } = u.bbox;
          if (x < left || x > left + width) return;
          const c = u.ctx;
          c.save();
          c.strokeStyle = t.accent;
          c.lineWidth = 2 * dpr();
          c.beginPath();
          c.moveTo(x, top);
          c.lineTo(x, top + hh);
          c.stroke();
          c.restore();
        },
      ],
    },
  };
  const u = makeChart(container, opts, data, height);
  if (onPick) {
    u.over.classList.add('pickable');
    u.over.addEventListener('click', () => {
      const i = u.cursor.idx;
      if (i != null && u.data[0][i] != null) onPick(u.data[0][i], i);
    });
  }
  return u;
}

// ISO 10816 zones A–D as horizontal bands behind the data: b = [A/B, B/C, C/D] in mm/s.
function drawIsoBands(u, b) {
  const c = u.ctx;
  const { left, top, width, height } = u.bbox;
  const edges = [0, b[0], b[1], b[2], Infinity];
  const ymax = u.scales.y.max;
  c.save();
  c.beginPath();
  c.rect(left, top, width, height);
  c.clip();
  c.font = `${11 * dpr()}px system-ui, sans-serif`;
  c.textAlign = 'right';
  c.textBaseline = 'top';
  for (let z = 0; z < 4; z++) {
    const lo = edges[z];
    const hi = Math.min(edges[z + 1], ymax);
    if (lo >= ymax) break;
    const y1 = u.valToPos(hi, 'y', true);
    const y0 = u.valToPos(lo, 'y', true);
    c.fillStyle = ISO_FILL[z];
    c.fillRect(left, y1, width, y0 - y1);
    c.fillStyle = 'rgba(90,100,110,0.85)';
    c.fillText('ISO ' + 'ABCD'[z], left + width - 4 * dpr(), y1 + 2 * dpr());
  }
  c.restore();
}

// A spectrum: x = Hz, markers [{name, harmonics: [hz…]}] drawn as dashed vertical cursors with
// labels. The drawn cursors' canvas x positions (device pixels) are published in
// container.dataset.markers (JSON) so tests and tools can find them.
export function spectrumChart(container, { x, y, unit, height = 240, markers = [], logY = false }) {
  const t = theme();
  const opts = {
    class: 'vw-chart',
    series: [
      { value: (u, v) => (v == null ? '—' : num(v, 1) + ' Hz') },
      { label: unit, stroke: t.fg, width: 1, points: { show: false }, value: (u, v) => (v == null ? '—' : sig(v)) },
    ],
    scales: { x: { time: false }, y: logY ? { distr: 3 } : { range: (u, mn, mx) => [0, mx > 0 ? mx * 1.08 : 1] } },
    axes: [
      axis(t, { values: (u, vals) => vals.map((v) => num(v, 0)), label: 'Hz', labelSize: 18, labelFont: '11px system-ui, sans-serif' }),
      axis(t, { size: 64, values: (u, vals) => vals.map((v) => sig(v)) }),
    ],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    hooks: { draw: [(u) => drawMarkers(u, markers, container)] },
  };
  return makeChart(container, opts, [x, y], height);
}

function drawMarkers(u, markers, container) {
  const c = u.ctx;
  const { left, top, width, height } = u.bbox;
  const r = dpr();
  const drawn = [];
  c.save();
  c.font = `${10 * r}px system-ui, sans-serif`;
  c.textAlign = 'left';
  c.textBaseline = 'top';
  markers.forEach((m, mi) => {
    const colour = FAMILY[m.name] || '#555';
    (m.harmonics && m.harmonics.length ? m.harmonics : [m.hz]).forEach((hz, k) => {
      if (!(hz >= u.scales.x.min && hz <= u.scales.x.max)) return;
      const x = Math.round(u.valToPos(hz, 'x', true));
      if (x < left || x > left + width) return;
      c.strokeStyle = colour;
      c.lineWidth = 2;
      c.setLineDash([5 * r, 3 * r]);
      c.beginPath();
      c.moveTo(x, top);
      c.lineTo(x, top + height);
      c.stroke();
      c.fillStyle = colour;
      const label = k === 0 ? m.name : k + 1 + '×';
      c.fillText(label, x + 3 * r, top + 2 * r + (mi % 4) * 11 * r);
      drawn.push({ name: m.name, k: k + 1, hz, x, colour });
    });
  });
  c.restore();
  container.dataset.markers = JSON.stringify(drawn);
  container.dataset.plotTop = String(Math.round(top));
  container.dataset.plotHeight = String(Math.round(height));
}

// A raw waveform as a min/max band: x = ms.
export function waveformChart(container, { x, min, max, unit, height = 200 }) {
  const t = theme();
  const opts = {
    class: 'vw-chart',
    series: [
      { value: (u, v) => (v == null ? '—' : num(v, 2) + ' ms') },
      { label: 'min', stroke: t.accent, width: 1, points: { show: false }, value: (u, v) => (v == null ? '—' : num(v, 4) + ' ' + unit) },
      { label: 'max', stroke: t.accent, width: 1, points: { show: false }, value: (u, v) => (v == null ? '—' : num(v, 4) + ' ' + unit) },
    ],
    bands: [{ series: [2, 1], fill: 'rgba(31,111,209,0.35)' }],
    scales: { x: { time: false } },
    axes: [
      axis(t, { values: (u, vals) => vals.map((v) => num(v, 0)), label: 'ms', labelSize: 18, labelFont: '11px system-ui, sans-serif' }),
      axis(t, { size: 56, values: (u, vals) => vals.map((v) => num(v, 3)) }),
    ],
    cursor: { drag: { x: true, y: false } },
  };
  return makeChart(container, opts, [x, min, max], height);
}

// ---- waterfall ----------------------------------------------------------------------------------

// A perceptually ordered colour map (viridis-like), 256 entries of [r, g, b].
const STOPS = [
  [0.0, [20, 10, 50]],
  [0.2, [59, 30, 120]],
  [0.4, [33, 110, 150]],
  [0.6, [32, 165, 120]],
  [0.8, [170, 210, 50]],
  [1.0, [253, 231, 37]],
];
export const LUT = (() => {
  const lut = [];
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    let k = 0;
    while (k < STOPS.length - 2 && v > STOPS[k + 1][0]) k++;
    const [a, ca] = STOPS[k];
    const [b, cb] = STOPS[k + 1];
    const f = (v - a) / (b - a);
    lut.push(ca.map((x, j) => Math.round(x + (cb[j] - x) * f)));
  }
  return lut;
})();

// Draws rows × columns of dB as a heat map (newest row on top) with a time axis on the left, a
// frequency axis below and the colour scale on the right. Returns {redraw, destroy}.
export function waterfallChart(container, data, height = 300) {
  const canvas = h('canvas', { class: 'waterfall-canvas', role: 'img' });
  container.append(canvas);
  const draw = () => drawWaterfall(canvas, container.clientWidth || 600, height, data);
  draw();
  const ro = new ResizeObserver(() => {
    if (Math.abs((container.clientWidth || 600) - canvas.clientWidth) > 2) draw();
  });
  ro.observe(container);
  return { canvas, redraw: draw, destroy: () => ro.disconnect() };
}

// The colour scale: from the 1st to the 99.8th percentile of the data (a few strong lines must not
// wash out the rest), within the server's db_min…db_max; the -200 dB floor ("nothing") left out.
function dbRange(rows, d) {
  const v = [];
  for (const row of rows) for (const x of row) if (x != null && Number.isFinite(x) && x > -199) v.push(x);
  if (!v.length) return [Number.isFinite(d.db_min) ? d.db_min : -120, Number.isFinite(d.db_max) && d.db_max > d.db_min ? d.db_max : -20];
  v.sort((a, b) => a - b);
  let lo = v[Math.floor(v.length * 0.01)];
  let hi = v[Math.min(v.length - 1, Math.floor(v.length * 0.998))];
  if (hi - lo < 6) {
    const mid = (hi + lo) / 2;
    lo = mid - 3;
    hi = mid + 3;
  }
  return [Math.floor(lo), Math.ceil(hi)];
}

function niceStep(span, target) {
  const raw = span / Math.max(1, target);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function drawWaterfall(canvas, cssW, cssH, d) {
  const r = dpr();
  canvas.width = Math.round(cssW * r);
  canvas.height = Math.round(cssH * r);
  canvas.style.width = cssW + 'px';
  canvas.style.height = cssH + 'px';
  const c = canvas.getContext('2d');
  c.setTransform(r, 0, 0, r, 0, 0);
  const t = theme();
  const ts = d.t || [];
  c.font = '11px system-ui, sans-serif';
  const labels = ts.map((x) => dateTime(x, 'short'));
  const L = Math.ceil(Math.max(40, ...labels.map((s) => c.measureText(s).width))) + 12,
    R = 64,
    T = 8,
    B = 34;
  const pw = cssW - L - R,
    ph = cssH - T - B;
  const rows = d.db || [];
  const nr = rows.length;
  const nc = nr ? Math.max(...rows.map((row) => row.length)) : 0;
  const [lo, hi] = dbRange(rows, d);
  c.clearRect(0, 0, cssW, cssH);
  if (nr && nc && pw > 10 && ph > 10) {
    const img = new ImageData(nc, nr);
    for (let i = 0; i < nr; i++) {
      const row = rows[nr - 1 - i]; // newest on top
      for (let j = 0; j < nc; j++) {
        const v = row[j];
        const q = v == null || !Number.isFinite(v) ? 0 : Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255)));
        const [cr, cg, cb] = LUT[q];
        const o = (i * nc + j) * 4;
        img.data[o] = cr;
        img.data[o + 1] = cg;
        img.data[o + 2] = cb;
        img.data[o + 3] = 255;
      }
    }
    const off = document.createElement('canvas');
    off.width = nc;
    off.height = nr;
    off.getContext('2d').putImageData(img, 0, 0);
    c.imageSmoothingEnabled = false;
    c.drawImage(off, L, T, pw, ph);
  }
  c.fillStyle = t.muted;
  c.strokeStyle = t.muted;
  c.font = '11px system-ui, sans-serif';
  c.lineWidth = 1;
  c.strokeRect(L + 0.5, T + 0.5, pw, ph);
  // frequency axis
  const f0 = d.f0_hz || 0;
  const fmax = f0 + nc * (d.df_hz || 0);
  if (fmax > f0) {
    const step = niceStep(fmax - f0, Math.max(2, Math.floor(pw / 80)));
    c.textAlign = 'center';
    c.textBaseline = 'top';
    for (let f = Math.ceil(f0 / step) * step; f <= fmax; f += step) {
      const x = L + ((f - f0) / (fmax - f0)) * pw;
      c.beginPath();
      c.moveTo(x, T + ph);
      c.lineTo(x, T + ph + 4);
      c.stroke();
      c.fillText(num(f, 0), x, T + ph + 6);
    }
    c.textAlign = 'right';
    c.fillText('Hz', L + pw, T + ph + 20);
  }
  // time axis: newest at the top
  if (nr) {
    c.textAlign = 'right';
    c.textBaseline = 'middle';
    const picks = nr > 2 ? [nr - 1, Math.floor((nr - 1) / 2), 0] : [...Array(nr).keys()].reverse();
    for (const i of picks) {
      const y = T + ((nr - 1 - i + 0.5) / nr) * ph;
      c.fillText(labels[i] || '', L - 6, y);
    }
  }
  // colour scale
  const sx = L + pw + 12,
    sw = 12;
  for (let y = 0; y < ph; y++) {
    const [cr, cg, cb] = LUT[Math.round((1 - y / ph) * 255)];
    c.fillStyle = `rgb(${cr},${cg},${cb})`;
    c.fillRect(sx, T + y, sw, 1.5);
  }
  c.fillStyle = t.muted;
  c.textAlign = 'left';
  c.textBaseline = 'top';
  c.fillText(num(hi, 0), sx + sw + 4, T);
  c.textBaseline = 'bottom';
  c.fillText(num(lo, 0), sx + sw + 4, T + ph);
  c.textBaseline = 'middle';
  c.fillText('dB', sx + sw + 4, T + ph / 2);
  canvas.dataset.rows = String(nr);
  canvas.dataset.dbLo = String(lo);
  canvas.dataset.dbHi = String(hi);
  canvas.dataset.cols = String(nc);
}
