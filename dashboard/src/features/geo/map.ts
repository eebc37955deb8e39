// The lead map's data shaping (features/geo): the API's per-area counts matched to the shipped us-atlas shapes
// (state FIPS ids; counties by state FIPS + name), shades in five steps, and the points placed with the same Albers
// USA projection the pre-projected "-albers-10m" files use (975 × 610). Pure functions, tested on their own.
import { geoAlbersUsa } from "d3-geo";
import type { Schemas } from "@/api/client";

export type Level = "state" | "county";
export type Metric = "leads" | "signals";
export type LeadMap = Schemas["LeadMap"];
export type MapArea = Schemas["MapArea"];
export type MarketAnalysis = Schemas["MarketAnalysis"];

export const WIDTH = 975;
export const HEIGHT = 610;
export const STEPS = 5;
export const LEVELS: Level[] = ["state", "county"];
export const DAY_CHOICES = [30, 90, 365] as const;

/** The API's county code for a us-atlas county: "<state FIPS>|<name, lower case>" (us-atlas names carry no
 * "County"/"Parish", the API strips them). */
export function countyKey(fips: string | number, name: string): string {
  const id = String(fips).padStart(5, "0");
  return `${id.slice(0, 2)}|${name.trim().toLowerCase()}`;
}

/** The area code of a us-atlas feature at this level. */
export function featureCode(level: Level, id: string | number | undefined, name: string | undefined): string {
  if (level === "state") return String(id ?? "").padStart(2, "0");
  return countyKey(id ?? "", name ?? "");
}

export function areaIndex(areas: MapArea[]): Map<string, MapArea> {
  return new Map(areas.map((area) => [area.code, area]));
}

/** 0 for nothing, else 1…STEPS: the value's share of the largest, in equal steps (ceil: any count shows). */
export function step(value: number, max: number): number {
  if (value <= 0 || max <= 0) return 0;
  return Math.min(STEPS, Math.max(1, Math.ceil((value / max) * STEPS)));
}

export function maxOf(areas: MapArea[], metric: Metric): number {
  return areas.reduce((most, area) => Math.max(most, area[metric]), 0);
}

/** The legend: each step's upper bound (rounded up to a whole count). */
export function legend(max: number): { step: number; upTo: number }[] {
  if (max <= 0) return [];
  return Array.from({ length: STEPS }, (_, index) => ({ step: index + 1, upTo: Math.ceil((max * (index + 1)) / STEPS) }));
}

const projection = geoAlbersUsa().scale(1300).translate([487.5, 305]);

export interface PlacedPoint {
  x: number;
  y: number;
  r: number;
  leads: number;
}

/** Points on the map (centroids outside the projection's reach, such as territories, are left out), largest
 * first so small ones draw on top; radius by the square root of the count, 2–9 px. */
export function placePoints(points: LeadMap["points"]): PlacedPoint[] {
  const most = points.reduce((m, p) => Math.max(m, p.leads), 0) || 1;
  const placed: PlacedPoint[] = [];
  for (const point of points) {
    const xy = projection([point.longitude, point.latitude]);
    if (!xy) continue;
    placed.push({ x: xy[0], y: xy[1], r: 2 + 7 * Math.sqrt(point.leads / most), leads: point.leads });
  }
  return placed.sort((a, b) => b.leads - a.leads);
}

export function describeArea(name: string, area: MapArea | undefined): string {
  if (!area) return `${name}: no leads`;
  return `${name}: ${area.leads.toLocaleString("en-US")} lead${area.leads === 1 ? "" : "s"}, ` +
    `${area.signals.toLocaleString("en-US")} signal${area.signals === 1 ? "" : "s"}`;
}

/** The busiest areas for the table beside the map. */
export function topAreas(areas: MapArea[], metric: Metric, count = 10): MapArea[] {
  return [...areas].sort((a, b) => b[metric] - a[metric] || a.name.localeCompare(b.name)).slice(0, count);
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
