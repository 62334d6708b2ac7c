// Reference data: the 290 kommuner with their seats' positions and the 21 län,
// from the public reference-data endpoints (GET /v1/kommuner, GET /v1/lan),
// fetched once per page load.
let cached;

export function reference() {
  cached ??= load();
  return cached;
}

async function getJSON(path) {
  const resp = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!resp.ok) throw new Error(path + ': HTTP ' + resp.status);
  return resp.json();
}

async function load() {
  const [kj, lj] = await Promise.all([getJSON('/v1/kommuner'), getJSON('/v1/lan')]);
  const kommuner = (kj.kommuner || []).map((k) => ({
    code: k.code, name: k.displayName, lanCode: k.lanCode, lat: k.position.latitude, lon: k.position.longitude,
  }));
  const lan = (lj.lan || []).map((l) => ({ code: l.code, name: l.displayName }));
  return {
    kommuner, lan, byCode: new Map(kommuner.map((k) => [k.code, k])), lanByCode: new Map(lan.map((l) => [l.code, l])),
  };
}

// distanceKm is the great-circle distance between two seats.
export function distanceKm(a, b) {
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}

// nearest is the kommun whose seat is closest to a position.
export function nearest(kommuner, pos) {
  let best = null;
  let bestKm = Infinity;
  for (const k of kommuner) {
    const km = distanceKm(k, pos);
    if (km < bestKm) { best = k; bestKm = km; }
  }
  return best;
}
