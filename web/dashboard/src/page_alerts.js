// page_alerts.js — #/alerts : open alerts first, then the past ones; operators acknowledge with a
// note and label true/false alarms. The list is reloaded after every action (and on every `alert`
// event of the stream) so that what changed is visible, with who did it and when.
import { t } from './i18n.js';
import { h, fill, api, dateTime, levelBadge, errorPanel, canOperate, formDialog, toast, enc, num, throttle, bus } from './util.js';

export function alertsPage(root, params) {
  const asset = params.get('asset');
  const body = h('div', null, h('p', { class: 'muted loading' }, t('loading')));
  root.append(
    h('div', { class: 'page-head' }, h('h1', null, t('nav.alerts')), asset ? h('span', { class: 'chip' }, asset, ' ', h('a', { href: '#/alerts' }, t('al.allassets'))) : null),
    body
  );

  async function load() {
    let d;
    try {
      d = await api.get('/alerts', { state: 'all', limit: 200, asset });
    } catch (e) {
      if (e.status !== 401) fill(body, errorPanel(e, load));
      return;
    }
    render(d.alerts || []);
  }
  const reload = throttle(load, 1500);

  function who(rec) {
    return t('al.by', { user: rec.user || '—', time: dateTime(rec.t, 'minute') });
  }

  function deliveries(a) {
    const ds = a.deliveries || [];
    if (!ds.length) return null;
    return h(
      'ul',
      { class: 'deliveries', 'aria-label': t('al.deliveries') },
      ds.map((d) =>
        h(
          'li',
          { class: ['dlv', 'dlv-' + d.state] },
          d.dest + ': ' + (t('dlv.' + d.state) === 'dlv.' + d.state ? d.state : t('dlv.' + d.state)),
          d.tries ? ' (' + (d.tries === 1 ? t('al.try1') : t('al.tries', { n: num(d.tries, 0) })) + ')' : '',
          d.last_error ? h('span', { class: 'muted' }, ' — ' + d.last_error) : null
        )
      )
    );
  }

  function item(a) {
    const actions = [];
    if (canOperate()) {
      if (a.open && !a.acked) actions.push(h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'ack' }, onclick: () => ack(a) }, t('al.ack')));
      actions.push(h('button', { type: 'button', class: 'btn', dataset: { action: 'label' }, onclick: () => label(a) }, a.label ? t('al.relabel') : t('al.label')));
    }
    const lab = a.label && a.label.label;
    return h(
      'li',
      { class: ['alert-item', 'lvl-' + a.level, a.open ? 'is-open' : 'is-closed'], dataset: { alertId: String(a.id), open: String(!!a.open) } },
      h(
        'div',
        { class: 'alert-main' },
        h(
          'div',
          { class: 'alert-top' },
          levelBadge(a.level),
          h('span', { class: 'alert-kind' }, t('kind.' + a.kind) === 'kind.' + a.kind ? a.kind : t('kind.' + a.kind)),
          h('a', { href: '#/assets/' + enc(a.asset), class: 'alert-asset', title: a.asset }, a.asset_name || (a.evidence && a.evidence.asset_name) || a.asset),
          h('time', { class: 'muted', datetime: a.t }, dateTime(a.t, 'minute')),
          h('span', { class: 'muted small' }, '#' + a.id)
        ),
        a.subject ? h('p', { class: 'alert-subject' }, a.subject) : null,
        a.summary && a.summary !== a.subject ? h('p', { class: 'alert-summary' }, a.summary) : null,
        h(
          'div',
          { class: 'alert-status' },
          h('span', { class: ['chip', a.open ? 'chip-open' : ''] }, a.open ? t('al.open') : t('al.closed')),
          a.acked
            ? h('span', { class: 'chip chip-ack', dataset: { acked: a.acked.user || '' } }, t('al.acked'), ' ', who(a.acked), a.acked.note ? h('q', null, a.acked.note) : null)
            : null,
          lab
            ? h('span', { class: ['chip', 'chip-' + lab], dataset: { label: lab } }, t('label.' + lab), ' ', who(a.label), a.label.note ? h('q', null, a.label.note) : null)
            : null
        ),
        deliveries(a)
      ),
      actions.length ? h('div', { class: 'alert-actions' }, actions) : null
    );
  }

  function render(list) {
    const open = list.filter((a) => a.open);
    const past = list.filter((a) => !a.open);
    fill(body, 
      h(
        'section',
        { 'aria-labelledby': 'open-h' },
        h('h2', { id: 'open-h' }, t('al.openh'), ' ', h('span', { class: 'count' }, num(open.length, 0))),
        open.length ? h('ul', { class: 'alert-list', id: 'open-alerts' }, open.map(item)) : h('p', { class: 'muted' }, t('al.noopen'))
      ),
      h(
        'section',
        { 'aria-labelledby': 'past-h' },
        h('h2', { id: 'past-h' }, t('al.past')),
        past.length ? h('ul', { class: 'alert-list', id: 'past-alerts' }, past.map(item)) : h('p', { class: 'muted' }, t('al.nopast'))
      )
    );
    root.dataset.loaded = '1';
  }

  async function ack(a) {
    const v = await formDialog({
      title: t('al.ack.title', { id: a.id }),
      text: t('al.ack.text', { asset: a.asset }),
      fields: [{ name: 'note', label: t('note'), placeholder: t('al.ack.placeholder') }],
      confirm: t('al.ack'),
    });
    if (!v) return;
    try {
      await api.post('/alerts/' + enc(a.id) + '/ack', { note: v.note });
      toast(t('al.ack.done'), 'ok');
      bus.emit('alerts-changed');
    } catch (e) {
      toast(t('err.action') + ' ' + e.message, 'error');
    }
    await load();
  }

  async function label(a) {
    const v = await formDialog({
      title: t('al.label.title', { id: a.id }),
      fields: [
        {
          name: 'label',
          label: t('al.label'),
          type: 'select',
          value: (a.label && a.label.label) || 'true_alarm',
          options: [
            ['true_alarm', t('label.true_alarm')],
            ['false_alarm', t('label.false_alarm')],
            ['', t('label.none')],
          ],
        },
        { name: 'note', label: t('note'), value: (a.label && a.label.note) || '' },
      ],
      confirm: t('btn.save'),
    });
    if (!v) return;
    try {
      await api.post('/alerts/' + enc(a.id) + '/label', { label: v.label || null, note: v.note });
      toast(t('al.label.done'), 'ok');
      bus.emit('alerts-changed');
    } catch (e) {
      toast(t('err.action') + ' ' + e.message, 'error');
    }
    await load();
  }

  load();
  return { refresh: load, onAlert: reload };
}
