// The county board's coverage picture (lägesbild): the län's kommuner on a
// map of Sweden, each marked by need against supply, the gaps ranked in a
// table, and the same figures as CSV. Every figure is the API's
// (GET /v1/lan/{lan}/coverage); the page computes none.
import { start, status, alertError, el } from './shell.js';
import { t, number, date } from './i18n.js';
import { api } from './api.js';
import { reference } from './refdata.js';
import { outline, project, bounds, drawBase, svgEl } from './map.js';

let claims;
let coverage;
let ref;
let rings;

async function main() {
  claims = await start();
  const lan = claims && claims.lan;
  if (!lan) {
    document.getElementById('signin').hidden = false;
    return;
  }
  document.getElementById('content').hidden = false;
  [ref, { rings }] = await Promise.all([reference(), outline()]);
  const dateInput = document.getElementById('date');
  dateInput.addEventListener('change', load);
  document.getElementById('csv').addEventListener('click', download);
  document.addEventListener('tia:language', () => coverage && render());
  await load();
}

const lanCode = () => claims.lan;
const query = () => {
  const d = document.getElementById('date').value;
  return d ? '?date=' + d : '';
};

async function load() {
  status(t('coverage.loading'));
  alertError(null);
  try {
    coverage = await api('/v1/lan/' + lanCode() + '/coverage' + query());
    document.getElementById('date').value = coverage.date || '';
    render();
  } catch (err) {
    status('');
    alertError(err);
  }
}

// figure shows an API figure as it came: a number formatted for the reader,
// anything else (a protected figure such as "<5") as written.
function figure(v) {
  if (v === undefined || v === null || v === '') return '–';
  if (typeof v === 'number' || /^-?\d+(\.\d+)?$/.test(v)) return number(Number(v));
  return String(v);
}

const isPositive = (v) => (typeof v === 'number' ? v > 0 : /^\d+$/.test(String(v)) ? Number(v) > 0 : Boolean(v) && v !== '0');

function kind(k) {
  if (isPositive(k.unmetNeed)) return 'gap';
  if (!isPositive(k.targetGroup)) return 'none';
  return 'covered';
}

function render() {
  const lan = ref.lanByCode.get(lanCode());
  const lanName = lan ? lan.name : lanCode();
  document.getElementById('heading').textContent = t('coverage.headingLan', { lan: lanName });
  document.title = t('coverage.headingLan', { lan: lanName }) + ' – TIA';
  const kommuner = coverage.kommuner || [];
  status(t('coverage.loaded', { n: number(kommuner.length), date: date(coverage.date) }));
  drawMap(kommuner, lanName);
  drawTable(kommuner);
  const src = [];
  src.push(coverage.snapshotDate ? t('coverage.snapshot', { date: date(coverage.snapshotDate) }) : t('coverage.noSnapshot'));
  if (coverage.projectionDate) src.push(t('coverage.projection', { date: date(coverage.projectionDate) }));
  document.getElementById('source').textContent = src.join(' ');
}

function drawMap(kommuner, lanName) {
  const svg = document.getElementById('map');
  const seats = kommuner.map((k) => ({ k, seat: ref.byCode.get(k.kommunCode) })).filter((x) => x.seat);
  const pts = seats.map(({ seat }) => project(seat.lon, seat.lat));
  const box = bounds(pts, 25, 120);
  drawBase(svg, rings, box);
  document.getElementById('map-title').textContent = t('coverage.mapTitle', { lan: lanName });
  const maxNeed = Math.max(1, ...kommuner.map((k) => Number(k.targetGroup) || 0));
  const unit = Math.max(box.w, box.h) / 100;
  const layer = svgEl('g', { class: 'marks' });
  const labels = svgEl('g', { class: 'labels' });
  seats.forEach(({ k, seat }, i) => {
    const [x, y] = pts[i];
    const kd = kind(k);
    const r = unit * (1 + 1.8 * Math.sqrt((Number(k.targetGroup) || 0) / maxNeed));
    const mark = kd === 'gap'
      ? svgEl('path', { d: `M${x},${y - r * 1.3}L${x + r * 1.3},${y}L${x},${y + r * 1.3}L${x - r * 1.3},${y}Z` })
      : svgEl('circle', { cx: x, cy: y, r: kd === 'none' ? unit * 0.7 : r });
    mark.setAttribute('class', 'mark ' + kd);
    mark.setAttribute('data-kommun', k.kommunCode);
    const title = svgEl('title');
    title.textContent = t('coverage.markTitle', {
      kommun: k.kommunName, need: figure(k.targetGroup), capacity: figure(k.capacity), unmet: figure(k.unmetNeed),
    });
    mark.append(title);
    layer.append(mark);
    // Names only where there is need: the others are in the table and in
    // each mark's title, and would crowd a dense län.
    if (kd !== 'none') {
      const label = svgEl('text', { x: x + r + unit * 0.5, y: y + unit * 0.6, 'font-size': unit * 2.2 });
      label.textContent = k.kommunName;
      labels.append(label);
    }
  });
  svg.append(layer, labels);

  const loc = document.getElementById('locator');
  const all = rings.flat().map(([lon, lat]) => project(lon, lat));
  drawBase(loc, rings, bounds(all, 20, 0));
  loc.append(svgEl('rect', { class: 'extent', x: box.x, y: box.y, width: box.w, height: box.h }));
  document.getElementById('locator-title').textContent = t('coverage.locatorTitle', { lan: lanName });
}

// drawTable lists the kommuner: first those with unmet need in the API's
// ranking, then the rest by name.
function drawTable(kommuner) {
  const byCode = new Map(kommuner.map((k) => [k.kommunCode, k]));
  const ranked = (coverage.rankedUnmetNeed || []).map((c) => byCode.get(c)).filter(Boolean);
  const rest = kommuner.filter((k) => !ranked.includes(k)).sort((a, b) => a.kommunName.localeCompare(b.kommunName, 'sv'));
  const tbody = document.querySelector('#gaps tbody');
  const rows = [...ranked, ...rest].map((k, i) => el('tr', { class: kind(k), 'data-kommun': k.kommunCode },
    el('td', { text: i < ranked.length ? number(i + 1) : '' }),
    el('th', { scope: 'row', text: k.kommunName }),
    el('td', { class: 'num', 'data-field': 'targetGroup', text: figure(k.targetGroup) }),
    el('td', { class: 'num', 'data-field': 'capacity', text: figure(k.capacity) }),
    el('td', { class: 'num', 'data-field': 'routeCapacity', text: figure(k.routeCapacity) }),
    el('td', { class: 'num', 'data-field': 'unmetNeed', text: figure(k.unmetNeed) }),
    el('td', { class: 'num', 'data-field': 'utilisation', text: figure(k.utilisation) === '–' ? '–' : number(Number(k.utilisation) || 0, { style: 'percent' }) }),
    el('td', { class: 'num', 'data-field': 'nearestActivityKm', text: Number(k.nearestActivityKm) < 0 ? t('coverage.noneAnywhere') : number(Math.round(Number(k.nearestActivityKm) || 0)) }),
  ));
  tbody.replaceChildren(...rows);
}

// download asks the API for the same coverage as CSV and saves it.
async function download() {
  alertError(null);
  try {
    const resp = await api('/v1/lan/' + lanCode() + '/coverage' + query(), { accept: 'text/csv' });
    const blob = await resp.blob();
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `tackning-lan-${lanCode()}-${coverage.date || 'idag'}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status(t('coverage.downloaded'));
  } catch (err) {
    alertError(err);
  }
}

main().catch((err) => alertError(err));
