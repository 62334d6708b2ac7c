// A map of Sweden drawn as SVG, without any tile server: the country's
// outline (Natural Earth through the npm package world-atlas, reduced to
// assets/sweden.json) and the kommun seats from the reference data, in an
// equirectangular projection scaled for Sweden's latitude.
const NS = 'http://www.w3.org/2000/svg';
const K = Math.cos((62 * Math.PI) / 180);
export const project = (lon, lat) => [lon * K * 100, -lat * 100];

let outlineCache;
export function outline() {
  outlineCache ??= fetch('/pages/assets/sweden.json').then((r) => r.json());
  return outlineCache;
}

export function svgEl(tag, attrs = {}) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function outlinePath(rings) {
  return rings.map((ring) => 'M' + ring.map(([lon, lat]) => project(lon, lat).map((v) => v.toFixed(1)).join(',')).join('L') + 'Z').join('');
}

// bounds of projected points, with a margin, at least min wide and high.
export function bounds(points, margin, min) {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const grow = (a, b) => { const d = Math.max(0, min - (b - a)) / 2; return [a - d - margin, b + d + margin]; };
  [x0, x1] = grow(x0, x1);
  [y0, y1] = grow(y0, y1);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

// draw fills svg with the outline and returns the viewBox used.
export function drawBase(svg, rings, box) {
  for (const c of [...svg.children]) if (c.tagName !== 'title') c.remove();
  svg.setAttribute('viewBox', [box.x, box.y, box.w, box.h].map((v) => v.toFixed(1)).join(' '));
  svg.append(svgEl('path', { class: 'land', d: outlinePath(rings) }));
}
