// The public catalogue: activities in, near, and reachable from a kommun.
// No sign-in; the API call is the public SearchCatalogue.
import { start, status, alertError, el } from './shell.js';
import { t, number, date, languageName } from './i18n.js';
import { api } from './api.js';
import { reference, nearest } from './refdata.js';

// Languages offered in the filter: the target group's common languages.
const ACTIVITY_LANGUAGES = ['sv', 'en', 'ar', 'prs', 'fa', 'ti', 'so', 'ku', 'ru', 'uk'];

const form = document.getElementById('search');
const kommunSelect = document.getElementById('kommun');
const results = document.getElementById('results');
let ref;
let lastEntries = null;
const contactCache = new Map();

async function main() {
  await start();
  ref = await reference();
  fillKommuner();
  fillLanguages();
  const q = new URLSearchParams(location.search);
  if (ref.byCode.has(q.get('kommun'))) kommunSelect.value = q.get('kommun');
  form.addEventListener('submit', (e) => { e.preventDefault(); search(); });
  for (const id of ['kommun', 'within', 'focus', 'language', 'routes']) {
    document.getElementById(id).addEventListener('change', () => search());
  }
  document.getElementById('locate').addEventListener('click', locate);
  document.addEventListener('tia:language', () => { fillLanguages(); if (lastEntries) render(lastEntries); });
  if (kommunSelect.value) search();
  else status(t('catalogue.choose'));
}

function fillKommuner() {
  const keep = kommunSelect.value;
  kommunSelect.replaceChildren(el('option', { value: '', 'data-i18n': 'catalogue.chooseKommun', text: t('catalogue.chooseKommun') }));
  for (const lan of ref.lan) {
    const group = el('optgroup', { label: lan.name });
    for (const k of ref.kommuner.filter((k) => k.lanCode === lan.code)) {
      group.append(el('option', { value: k.code, text: k.name }));
    }
    kommunSelect.append(group);
  }
  kommunSelect.value = keep;
}

function fillLanguages() {
  const select = document.getElementById('language');
  const keep = select.value;
  select.replaceChildren(el('option', { value: '', text: t('catalogue.allLanguages') }));
  for (const code of ACTIVITY_LANGUAGES) select.append(el('option', { value: code, text: languageName(code) }));
  select.value = keep;
}

function locate() {
  if (!navigator.geolocation) { status(t('catalogue.noPosition')); return; }
  status(t('catalogue.locating'));
  navigator.geolocation.getCurrentPosition(
    (p) => {
      const k = nearest(ref.kommuner, { lat: p.coords.latitude, lon: p.coords.longitude });
      kommunSelect.value = k.code;
      search();
    },
    () => status(t('catalogue.noPosition')),
    { timeout: 10000, maximumAge: 600000 },
  );
}

async function search() {
  const kommun = kommunSelect.value;
  if (!kommun) { status(t('catalogue.choose')); return; }
  const params = new URLSearchParams({ kommunCode: kommun, withinKm: document.getElementById('within').value, pageSize: '200' });
  if (document.getElementById('routes').checked) params.set('includeRoutes', 'true');
  const focus = document.getElementById('focus').value;
  if (focus) params.set('focus', focus);
  const lang = document.getElementById('language').value;
  if (lang) params.set('language', lang);
  const u = new URL(location.href);
  u.searchParams.set('kommun', kommun);
  history.replaceState(null, '', u.pathname + u.search);
  status(t('catalogue.searching'));
  alertError(null);
  try {
    const resp = await api('/v1/catalogue:search?' + params);
    const entries = resp.entries || [];
    await loadContacts(entries);
    lastEntries = entries;
    render(entries);
  } catch (err) {
    status('');
    alertError(err);
  }
}

// loadContacts reads the public participant contacts of the län the
// activities are in (the contact directory anyone may read).
async function loadContacts(entries) {
  const lans = new Set(entries.map((e) => e.activity.lanCode).filter(Boolean));
  await Promise.all([...lans].filter((l) => !contactCache.has(l)).map(async (l) => {
    try {
      const resp = await api('/v1/lan/' + l + '/contacts?pageSize=1000');
      contactCache.set(l, resp.contacts || []);
    } catch {
      contactCache.set(l, []);
    }
  }));
}

function contactFor(activity) {
  const org = activity.name.split('/')[1];
  const list = contactCache.get(activity.lanCode) || [];
  return list.filter((c) => c.actor === 'organiser-' + org && c.public !== false);
}

function render(entries) {
  const here = ref.byCode.get(kommunSelect.value);
  status(entries.length ? t('catalogue.found', { n: number(entries.length), kommun: here ? here.name : '' }) : t('catalogue.none'));
  results.replaceChildren(...entries.map(card));
}

function card(entry) {
  const a = entry.activity;
  const k = ref.byCode.get(a.kommunCode);
  let where = t('catalogue.inYourKommun');
  if (entry.viaRoute) where = t('catalogue.viaRoute');
  else if (entry.distanceKm > 0) where = t('catalogue.distance', { km: number(Math.round(entry.distanceKm)) });
  const dl = el('dl');
  const row = (key, ...value) => dl.append(el('dt', { text: t(key) }), el('dd', {}, ...value));
  row('catalogue.where', [k ? k.name : a.kommunCode, a.address].filter(Boolean).join(', ') + ' · ' + where);
  row('catalogue.focusLabel', (a.focus || []).map((f) => t('focus.' + f)).join(', '));
  if (a.languages && a.languages.length) row('catalogue.languages', a.languages.map(languageName).join(', '));
  row('catalogue.dates', t('catalogue.dateRange', { from: date(a.startDate), to: date(a.endDate) }));
  if (a.schedule) row('catalogue.schedule', a.schedule);
  row('catalogue.places', number(a.capacity));
  const contacts = contactFor(a);
  if (contacts.length) {
    const dd = [];
    for (const c of contacts) {
      const parts = [c.actorDisplayName, c.personName].filter(Boolean).join(', ');
      dd.push(el('span', { class: 'contact' }, parts,
        c.email ? el('a', { href: 'mailto:' + c.email }, c.email) : null,
        c.phone ? el('a', { href: 'tel:' + c.phone.replace(/[^+\d]/g, '') }, c.phone) : null));
    }
    row('catalogue.contact', ...dd);
  } else {
    row('catalogue.contact', t('catalogue.noContact'));
  }
  return el('li', { class: 'card', 'data-activity': a.name },
    el('h2', { text: a.title }),
    el('p', { class: 'badge ' + (a.status || '').toLowerCase(), text: t('status.' + (a.status || 'ACTIVITY_STATUS_UNSPECIFIED')) }),
    dl);
}

main().catch((err) => alertError(err));
