// One-off extraction of China's outline for the map, kept for provenance.
// Source: Natural Earth (public domain) via the npm package world-atlas@2.0.2
// (countries-50m.json, TopoJSON), converted with topojson-client@3.
// Run: npm install world-atlas@2.0.2 topojson-client@3 && node tools/extract_china.mjs > viz/data/china.geojson
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { feature } from "topojson-client";

const require = createRequire(import.meta.url);
const topo = JSON.parse(readFileSync(require.resolve("world-atlas/countries-50m.json"), "utf8"));
const countries = feature(topo, topo.objects.countries);
const china = countries.features.find((f) => f.id === "156");
// Round to 0.01 degree (~1 km): plenty for a country-scale map, and small to commit.
const round = (c) => (typeof c[0] === "number" ? c.map((x) => Math.round(x * 100) / 100) : c.map(round));
china.geometry.coordinates = round(china.geometry.coordinates);
china.properties = {
  name: "China",
  source: "Natural Earth 1:50m admin-0 countries (public domain) via npm world-atlas@2.0.2, extracted by tools/extract_china.mjs",
};
process.stdout.write(JSON.stringify({ type: "FeatureCollection", features: [china] }));
