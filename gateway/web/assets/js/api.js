// Calls of the public REST API, the same one every REST client uses.
import { bearer } from './session.js';
import { language } from './i18n.js';

export class APIError extends Error {
  constructor(status, message, fields) {
    super(message);
    this.status = status;
    this.fields = fields || [];
  }
}

export async function api(path, { method = 'GET', body, accept = 'application/json' } = {}) {
  const headers = { Accept: accept, 'Accept-Language': language() };
  const tok = bearer();
  if (tok) headers.Authorization = 'Bearer ' + tok;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(path, {
    method, headers, credentials: 'omit', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!resp.ok) {
    let message = resp.statusText;
    let fields = [];
    try {
      const j = await resp.json();
      message = j.message || message;
      for (const d of j.details || []) {
        for (const v of d.fieldViolations || []) fields.push(v.field + ': ' + v.description);
      }
    } catch { /* not JSON */ }
    throw new APIError(resp.status, message, fields);
  }
  if (accept !== 'application/json') return resp;
  return resp.json();
}

// all follows next_page_token until the last page.
export async function all(path, key) {
  const out = [];
  let token = '';
  const sep = path.includes('?') ? '&' : '?';
  do {
    const page = await api(path + sep + 'pageSize=1000' + (token ? '&pageToken=' + encodeURIComponent(token) : ''));
    out.push(...(page[key] || []));
    token = page.nextPageToken || '';
  } while (token);
  return out;
}
