// Reference data: the 290 kommuner with their seats' positions and the 21 län.
// From the public reference-data endpoint `/v1/kommuner` when the edge has it,
// else from the same compiled-in data served beside the pages.
let cached;

export function reference() {
  cached ??= load();
  return cached;
}

async function load() {
  try {
    const [k, l] = await Promise.all([fetch('/v1/kommuner?pageSize=1000'), fetch('/v1/lan?pageSize=100')]);
    if (k.ok && l.ok) {
      const ref = normalise(await k.json(), await l.json());
      if (ref) return ref;
    }
  } catch { /* fall back below */ }
  const resp = await fetch('/pages/assets/kommuner.json');
  return index(await resp.json());
}

const last = (s) => String(s || '').split('/').pop();

// normalise accepts the reference-data endpoints' JSON and keeps only what the
// pages need; it returns null when a field is missing, so the bundled copy is
// used instead of a partial list.
function normalise(kj, lj) {
  const ks = kj.kommuner || kj.kommun || [];
  const ls = lj.lan || lj.lans || [];
  const kommuner = ks.map((k) => {
    const pos = k.position || k.seat || k.location || {};
    return {
      code: k.code || k.kommunCode || last(k.name),
      name: k.displayName || k.kommunName || (k.name && !k.name.includes('/') ? k.name : ''),
      lanCode: k.lanCode || last(k.lan) || String(k.code || last(k.name)).slice(0, 2),
      lat: Number(k.lat ?? k.latitude ?? pos.lat ?? pos.latitude),
      lon: Number(k.lon ?? k.longitude ?? pos.lon ?? pos.lng ?? pos.longitude),
    };
  });
  const lan = ls.map((l) => ({
    code: l.code || l.lanCode || last(l.name),
    name: l.displayName || l.lanName || (l.name && !l.name.includes('/') ? l.name : ''),
  }));
  const ok = kommuner.length >= 290 && lan.length >= 21 &&
    kommuner.every((k) => /^\d{4}$/.test(k.code) && k.name && Number.isFinite(k.lat) && Number.isFinite(k.lon)) &&
    lan.every((l) => /^\d{2}$/.test(l.code) && l.name);
  return ok ? index({ kommuner, lan }) : null;
}

function index(ref) {
  const byCode = new Map(ref.kommuner.map((k) => [k.code, k]));
  const lanByCode = new Map(ref.lan.map((l) => [l.code, l]));
  return { ...ref, byCode, lanByCode };
}

// distanceKm is the great-circle distance between two seats.
export function distanceKm(a, b) {
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function nearest(kommuner, pos) {
  let best = null;
  let bestKm = Infinity;
  for (const k of kommuner) {
    const km = distanceKm(k, pos);
    if (km < bestKm) { best = k; bestKm = km; }
  }
  return best;
}
