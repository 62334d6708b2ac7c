// The bearer token of the signed-in user. It arrives in the URL fragment
// (`#token=…`, never sent to a server, printed by `make run` or handed over by
// the sign-in page), is kept in this module and in sessionStorage (gone when
// the tab closes; never localStorage), and is removed from the address bar at
// once so that it is neither bookmarked nor shown.
const KEY = 'tia.token';
let token = '';

export function signIn() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    token = decodeURIComponent(m[1]);
    try { sessionStorage.setItem(KEY, token); } catch { /* private mode: memory only */ }
    history.replaceState(null, '', location.pathname + location.search);
  } else {
    try { token = sessionStorage.getItem(KEY) || ''; } catch { token = ''; }
  }
  return claims();
}

export function bearer() { return token; }

export function signOut() {
  token = '';
  try { sessionStorage.removeItem(KEY); } catch { /* nothing kept */ }
}

// claims reads the token's payload to show who is signed in and to pick the
// user's län or organisation. The services verify the token; this only reads.
export function claims() {
  if (!token) return null;
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    const c = JSON.parse(json);
    if (c.exp && c.exp * 1000 < Date.now()) { signOut(); return null; }
    return c;
  } catch {
    return null;
  }
}
