import fs from 'node:fs';
import {feature} from 'topojson-client';
const topo = JSON.parse(fs.readFileSync('node_modules/world-atlas/countries-10m.json'));
const fc = feature(topo, topo.objects.countries);
const se = fc.features.find(f => f.id === '752');
const polys = se.geometry.type === 'MultiPolygon' ? se.geometry.coordinates : [se.geometry.coordinates];
const MINAREA = Number(process.env.MINAREA||0.002);
function area(r){let a=0;for(let i=0,j=r.length-1;i<r.length;j=i++)a+=(r[j][0]+r[i][0])*(r[j][1]-r[i][1]);return Math.abs(a/2);}
const rings = [];
for (const p of polys) {
  const outer = p[0];
  const r = [];
  for (const [lon, lat] of outer) {
    const q = [Math.round(lon*100)/100, Math.round(lat*100)/100];
    const last = r[r.length-1];
    if (!last || last[0] !== q[0] || last[1] !== q[1]) r.push(q);
  }
  if (r.length >= 4 && area(r) > MINAREA) rings.push(r);
}
const out = {source: 'world-atlas@2.0.2 countries-10m.json (Natural Earth 1:10m, public domain), feature id 752 (Sweden); outer rings, coordinates rounded to 0.01 degree', rings};
fs.writeFileSync('sweden.json', JSON.stringify(out));
console.log(rings.length, rings.map(r=>r.length).join(','), fs.statSync('sweden.json').size);
