// page_box.js — #/box : the box itself from GET /api/v1/status: version, uptime, disk, sources and
// their counters, queues, outputs (InfluxDB) and their spool, alert destinations, history. Counters
// that signal trouble (gaps, overruns, drops, errors) are highlighted when non-zero.
import { t } from './i18n.js';
import { h, clear, fill, api, num, bytes, uptime, errorPanel } from './util.js';

function table(id, cols, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', id },
      h('thead', null, h('tr', null, cols.map(([, label, cls]) => h('th', { class: cls, scope: 'col' }, label)))),
      h('tbody', null, rows.map((r) => h('tr', null, cols.map(([key, , cls, bad]) => cell(r, key, cls, bad)))))
    )
  );
}

function cell(r, key, cls, bad) {
  const v = typeof key === 'function' ? key(r) : r[key];
  const text = v == null ? '—' : typeof v === 'number' ? num(v, 1) : typeof v === 'boolean' ? (v ? t('yes') : t('no')) : v;
  return h('td', { class: [cls, bad && typeof v === 'number' && v > 0 ? 'bad' : ''] }, text);
}

export function boxPage(root) {
  const body = h('div', null, h('p', { class: 'muted loading' }, t('loading')));
  root.append(h('div', { class: 'page-head' }, h('h1', null, t('nav.box'))), body);

  async function load() {
    let s;
    try {
      s = await api.get('/status');
    } catch (e) {
      if (e.status !== 401) fill(body, errorPanel(e, load));
      return;
    }
    render(s);
  }

  function render(s) {
    const disk = s.disk || {};
    const used = disk.total_bytes ? 1 - disk.free_bytes / disk.total_bytes : null;
    const diskBar = h('span', { class: 'bar wide-bar' });
    if (used != null) {
      const f = h('span', { class: ['bar-fill', used > 0.9 ? 'low' : used > 0.75 ? 'mid' : 'good'] });
      f.style.width = Math.round(used * 100) + '%';
      diskBar.append(f);
    }
    const out = [
      h(
        'dl',
        { class: 'metrics wide' },
        h('div', { class: 'metric' }, h('dt', null, t('box.id')), h('dd', null, s.box || '—')),
        h('div', { class: 'metric' }, h('dt', null, t('box.version')), h('dd', null, s.version || '—')),
        h('div', { class: 'metric' }, h('dt', null, t('box.uptime')), h('dd', null, uptime(s.uptime_s))),
        h(
          'div',
          { class: 'metric' },
          h('dt', null, t('box.disk')),
          h('dd', null, diskBar, ' ', t('box.diskfree', { free: bytes(disk.free_bytes), total: bytes(disk.total_bytes) }))
        ),
        h('div', { class: 'metric' }, h('dt', null, t('box.history')), h('dd', null, t('box.stored', { n: num((s.history || {}).stored, 0) }), (s.history || {}).errors ? h('span', { class: 'bad' }, ' · ' + t('box.errors', { n: num(s.history.errors, 0) })) : null))
      ),
      disk.data_dir ? h('p', { class: 'muted small' }, t('box.datadir'), ' ', h('code', null, disk.data_dir)) : null,
      s.versions
        ? h('p', { class: 'muted small', id: 'versions' }, t('box.versions'), ' ',
            Object.entries(s.versions).map(([k, v]) => k + ' ' + v).join(' · '))
        : null,
      h('h2', null, t('box.sources')),
      table('sources-table', [
        ['sensor', t('col.sensor')],
        ['asset', t('col.asset')],
        ['source', t('col.source'), 'mono'],
        ['state', t('col.state')],
        [(r) => (r.rate_hz != null ? num(r.rate_hz, 0) + ' Hz' : null), t('col.rate'), 'num'],
        [(r) => r.frames != null && num(r.frames, 0), t('col.frames'), 'num'],
        ['gaps', t('col.gaps'), 'num', true],
        ['overruns', t('col.overruns'), 'num', true],
        ['disconnects', t('col.disconnects'), 'num', true],
        [(r) => r.snapshots != null && num(r.snapshots, 0), t('col.snapshots'), 'num'],
        ['snapshots_dropped', t('col.drops'), 'num', true],
        ['last_error', t('col.lasterror'), 'muted'],
      ], s.sources || []),
      h('h2', null, t('box.queues')),
      table('queues-table', [
        ['name', t('col.name')],
        [(r) => num(r.depth, 0) + ' / ' + num(r.capacity, 0), t('col.depth'), 'num'],
        ['dropped', t('col.drops'), 'num', true],
      ], s.queues || []),
    ];
    out.push(h('h2', null, t('box.outputs')));
    if ((s.outputs || []).length)
      out.push(
        table('outputs-table', [
          ['name', t('col.name')],
          ['connected', t('col.connected')],
          ['last_http_status', t('col.http'), 'num'],
          [(r) => r.lines_in != null && num(r.lines_in, 0), t('col.lines'), 'num'],
          [(r) => r.batches_sent != null && num(r.batches_sent, 0), t('col.batches'), 'num'],
          [(r) => bytes(r.bytes_sent), t('col.bytes'), 'num'],
          ['retries', t('col.retries'), 'num', true],
          [(r) => bytes(r.spool_pending_bytes), t('col.spool'), 'num'],
          [(r) => bytes(r.spool_disk_bytes), t('col.spooldisk'), 'num'],
          ['spool_dropped_bytes', t('col.spooldropped'), 'num', true],
          ['dead_batches', t('col.dead'), 'num', true],
          ['last_error', t('col.lasterror'), 'muted'],
        ], s.outputs)
      );
    else out.push(h('p', { class: 'muted' }, t('box.nooutputs')));
    out.push(h('h2', null, t('box.alerts')));
    const al = s.alerts;
    if (al) {
      out.push(h('p', null, t('box.alertsmade', { n: num(al.alerts, 0) }), al.queue_drops ? h('span', { class: 'bad' }, ' · ' + t('box.qdrops', { n: num(al.queue_drops, 0) })) : null));
      if ((al.destinations || []).length)
        out.push(
          table('dest-table', [
            ['name', t('col.name')],
            ['type', t('col.type')],
            ['pending', t('col.pending'), 'num'],
            ['held', t('col.held'), 'num'],
            ['sent', t('col.sent'), 'num'],
            ['failed', t('col.failed'), 'num', true],
            ['folded', t('col.folded'), 'num'],
            ['attempts', t('col.attempts'), 'num'],
          ], al.destinations)
        );
    } else out.push(h('p', { class: 'muted' }, t('box.noalerts')));
    fill(body, ...out);
    root.dataset.loaded = '1';
  }

  load();
  return { refresh: load, onStatus: (s) => s && s.sources && render(s) };
}
