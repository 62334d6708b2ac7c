// What every page shares: the language select, who is signed in, the status
// line and error messages.
import { LANGUAGES, choose, setLanguage, t, language } from './i18n.js';
import { signIn, signOut } from './session.js';

export async function start() {
  const claims = signIn();
  const select = document.getElementById('lang');
  for (const [code, name] of LANGUAGES) {
    const o = document.createElement('option');
    o.value = code;
    o.textContent = name;
    o.lang = code === 'prs' ? 'fa-AF' : code;
    select.append(o);
  }
  const lang = choose();
  select.value = lang;
  await setLanguage(lang);
  select.addEventListener('change', async () => {
    await setLanguage(select.value);
    const u = new URL(location.href);
    u.searchParams.set('lang', language());
    history.replaceState(null, '', u.pathname + u.search);
    showWho(claims);
  });
  showWho(claims);
  return claims;
}

function showWho(claims) {
  const who = document.getElementById('who');
  if (!who) return;
  who.replaceChildren();
  if (!claims) return;
  const scope = claims.lan ? t('who.lan', { lan: claims.lan }) : claims.org ? t('who.org', { org: claims.org }) : '';
  const span = document.createElement('span');
  span.textContent = t('who.signedInAs', { role: t('role.' + claims.role), scope });
  const out = document.createElement('button');
  out.type = 'button';
  out.className = 'link';
  out.textContent = t('who.signOut');
  out.addEventListener('click', () => { signOut(); location.reload(); });
  who.append(span, ' ', out);
}

export function status(text) {
  document.getElementById('status').textContent = text;
}

export function alertError(err) {
  const box = document.getElementById('alert');
  box.replaceChildren();
  if (!err) { box.hidden = true; return; }
  box.hidden = false;
  const p = document.createElement('p');
  p.textContent = err.status === 401 ? t('error.signedOut') : err.status === 403 ? t('error.forbidden') : t('error.api', { message: err.message });
  box.append(p);
  if (err.fields && err.fields.length) {
    const ul = document.createElement('ul');
    for (const f of err.fields) {
      const li = document.createElement('li');
      li.textContent = f;
      ul.append(li);
    }
    box.append(ul);
  }
}

// el builds an element: el('td', {class: 'num'}, 'text', child).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== undefined && c !== null));
  return e;
}
