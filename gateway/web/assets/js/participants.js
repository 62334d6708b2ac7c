// An organiser's activities and the participation certificates of each, with
// one click to record that a participant started, dropped out or never
// started. A drop-out reaches Migrationsverket through the API's own event.
import { start, status, alertError, el } from './shell.js';
import { t, number, date } from './i18n.js';
import { api, all } from './api.js';
import { reference } from './refdata.js';

let claims;
let ref;
let data = []; // [{activity, certificates}]

async function main() {
  claims = await start();
  if (!claims || !claims.org) {
    document.getElementById('signin').hidden = false;
    return;
  }
  document.getElementById('intro').hidden = false;
  ref = await reference();
  document.addEventListener('tia:language', render);
  await load();
}

async function load() {
  status(t('participants.loading'));
  alertError(null);
  try {
    const activities = await all('/v1/organisers/' + claims.org + '/activities', 'activities');
    data = await Promise.all(activities.map(async (activity) => ({
      activity, certificates: await all('/v1/' + activity.name + '/certificates', 'certificates'),
    })));
    render();
  } catch (err) {
    status('');
    alertError(err);
  }
}

function render() {
  const n = data.reduce((s, d) => s + d.certificates.length, 0);
  status(t('participants.loaded', { activities: number(data.length), certificates: number(n) }));
  document.getElementById('activities').replaceChildren(...data.map(section));
}

const today = () => new Date().toISOString().slice(0, 10);
const shortId = (name) => name.split('/').pop();

function section({ activity: a, certificates }) {
  const k = ref.byCode.get(a.kommunCode);
  const headingId = 'h-' + shortId(a.name);
  const body = certificates.length
    ? el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': headingId },
      el('table', { class: 'certs' },
        el('caption', { text: t('participants.certificatesOf', { title: a.title }) }),
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col', text: t('participants.certificate') }),
          el('th', { scope: 'col', text: t('participants.dossier') }),
          el('th', { scope: 'col', text: t('participants.valid') }),
          el('th', { scope: 'col', text: t('participants.participation') }),
          el('th', { scope: 'col', text: t('participants.record') }))),
        el('tbody', {}, ...certificates.map(row))))
    : el('p', { text: t('participants.noCertificates') });
  return el('section', { class: 'activity', 'data-activity': a.name, 'aria-labelledby': headingId },
    el('h2', { id: headingId, text: a.title }),
    el('p', { class: 'meta', text: [k ? k.name : a.kommunCode, t('catalogue.dateRange', { from: date(a.startDate), to: date(a.endDate) }),
      t('participants.capacity', { n: number(a.capacity) }), t('status.' + (a.status || 'ACTIVITY_STATUS_UNSPECIFIED'))].join(' · ') }),
    body);
}

function row(c) {
  const id = shortId(c.name);
  const ended = c.participation === 'PARTICIPATION_DROPPED_OUT' || c.participation === 'PARTICIPATION_NEVER_STARTED';
  const dateId = 'd-' + id;
  let state = t('participation.' + (c.participation || 'PARTICIPATION_UNSPECIFIED'));
  if (ended && c.endDate) state += ' (' + date(c.endDate) + ')';
  const actions = el('td', { class: 'actions' });
  if (!ended) {
    const input = el('input', { type: 'date', id: dateId, value: today(), max: today(), min: c.validFrom || undefined });
    const button = (action, key) => el('button', { type: 'button', 'data-action': action, 'data-certificate': c.name },
      t(key), el('span', { class: 'vh', text: ' ' + t('participants.forCertificate', { id }) }));
    actions.append(el('label', { for: dateId, text: t('participants.date') }), ' ', input, ' ');
    if (c.participation !== 'PARTICIPATION_STARTED') actions.append(button('start', 'participants.started'), ' ');
    actions.append(button('dropout', 'participants.droppedOut'), ' ');
    if (c.participation !== 'PARTICIPATION_STARTED') actions.append(button('never', 'participants.neverStarted'));
    actions.addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (b) record(b.dataset.action, c, input.value);
    });
  } else {
    actions.textContent = '—';
  }
  return el('tr', { 'data-certificate': c.name, 'data-participation': c.participation },
    el('th', { scope: 'row', text: id }),
    el('td', { text: c.dossierNumber || '' }),
    el('td', { text: t('catalogue.dateRange', { from: date(c.validFrom), to: date(c.validTo) }) }),
    el('td', { class: 'state', text: state }),
    actions);
}

async function record(action, cert, day) {
  alertError(null);
  try {
    let updated;
    if (action === 'start') {
      updated = await api('/v1/' + cert.name + ':start', { method: 'POST', body: {} });
    } else {
      if (!day) { alertError({ status: 400, message: t('participants.needDate'), fields: [] }); return; }
      const outcome = action === 'dropout' ? 'PARTICIPATION_DROPPED_OUT' : 'PARTICIPATION_NEVER_STARTED';
      updated = await api('/v1/' + cert.name + ':end', { method: 'POST', body: { outcome, endDate: day } });
    }
    for (const d of data) d.certificates = d.certificates.map((c) => (c.name === updated.name ? updated : c));
    render();
    status(t('participants.recorded', { id: shortId(updated.name), state: t('participation.' + updated.participation) }));
  } catch (err) {
    alertError(err);
  }
}

main().catch((err) => alertError(err));
