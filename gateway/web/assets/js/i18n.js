// Message catalogues: every text on the pages comes from
// /pages/assets/messages/<lang>.json; a key missing in a language falls back
// to English (a Go test fails when one is missing). Arabic and Dari are
// written right to left.
export const LANGUAGES = [
  ['sv', 'Svenska'], ['en', 'English'], ['ar', 'العربية'], ['prs', 'دری'], ['ti', 'ትግርኛ'], ['so', 'Soomaali'],
];
const RTL = new Set(['ar', 'prs']);
// The BCP 47 tag for the lang attribute and for Intl: Dari is Persian as
// written in Afghanistan.
const TAG = { prs: 'fa-AF' };

let current = 'en';
let english = {};
let messages = {};
const known = (l) => LANGUAGES.some(([code]) => code === l);

// choose picks the language: ?lang= first (the select keeps it there), then
// the browser's languages, then Swedish.
export function choose(list = navigator.languages || [navigator.language]) {
  const q = new URLSearchParams(location.search).get('lang');
  if (q && known(q)) return q;
  for (const tag of list) {
    const l = String(tag).toLowerCase();
    if (l === 'prs' || l.startsWith('prs-') || l === 'fa-af' || l.startsWith('fa')) return 'prs';
    const base = l.split('-')[0];
    if (known(base)) return base;
  }
  return 'sv';
}

export function language() { return current; }
export function locale() { return TAG[current] || current; }

async function fetchCatalogue(lang) {
  const resp = await fetch('/pages/assets/messages/' + lang + '.json');
  if (!resp.ok) throw new Error('messages ' + lang + ': HTTP ' + resp.status);
  return resp.json();
}

export async function setLanguage(lang) {
  if (!known(lang)) lang = 'en';
  if (!Object.keys(english).length) english = await fetchCatalogue('en');
  messages = lang === 'en' ? english : await fetchCatalogue(lang);
  current = lang;
  const html = document.documentElement;
  html.lang = locale();
  html.dir = RTL.has(lang) ? 'rtl' : 'ltr';
  translate(document);
  document.dispatchEvent(new CustomEvent('tia:language'));
}

// t returns the message for key with {name} placeholders filled in.
export function t(key, vars = {}) {
  const s = messages[key] ?? english[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : '{' + k + '}'));
}

// translate fills [data-i18n] elements' text and [data-i18n-attr] attributes
// ("aria-label:key;title:key").
export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  }
}

const latn = { numberingSystem: 'latn' };
export function number(n, opts = {}) {
  return new Intl.NumberFormat(locale(), { ...latn, ...opts }).format(n);
}

export function date(iso) {
  if (!iso) return '';
  const [y, m, d] = iso.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { ...latn, dateStyle: 'medium', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, d));
}

// languageName names an ISO 639 code in the interface language.
export function languageName(code) {
  try {
    return new Intl.DisplayNames([locale()], { type: 'language' }).of(code) || code;
  } catch {
    return code;
  }
}
