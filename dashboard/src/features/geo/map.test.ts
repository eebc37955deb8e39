import { describe, expect, it } from "vitest";
import { areaIndex, countyKey, featureCode, legend, maxOf, placePoints, step, topAreas, type MapArea } from "./map";

const AREAS: MapArea[] = [
  { code: "48", name: "Texas", leads: 40, signals: 12 },
  { code: "06", name: "California", leads: 10, signals: 30 },
  { code: "36", name: "New York", leads: 1, signals: 0 },
];

describe("matching areas to the shipped shapes", () => {
  it("keys states by their two-digit FIPS id", () => {
    expect(featureCode("state", "6", "California")).toBe("06");
    expect(featureCode("state", "48", "Texas")).toBe("48");
    expect(areaIndex(AREAS).get(featureCode("state", 6, "California"))?.leads).toBe(10);
  });
  it("keys counties by state FIPS and lower-case name, as the API does", () => {
    expect(countyKey("48453", "Travis")).toBe("48|travis");
    expect(countyKey(6037, "Los Angeles")).toBe("06|los angeles");
    expect(featureCode("county", "22071", "Orleans")).toBe("22|orleans");
  });
});

describe("shades", () => {
  it("puts every count in one of five steps, nothing in none", () => {
    expect(step(0, 40)).toBe(0);
    expect(step(1, 40)).toBe(1);
    expect(step(8, 40)).toBe(1);
    expect(step(9, 40)).toBe(2);
    expect(step(40, 40)).toBe(5);
    expect(step(5, 0)).toBe(0);
  });
  it("measures the largest of the metric and gives the legend's bounds", () => {
    expect(maxOf(AREAS, "leads")).toBe(40);
    expect(maxOf(AREAS, "signals")).toBe(30);
    expect(legend(40).map((entry) => entry.upTo)).toEqual([8, 16, 24, 32, 40]);
    expect(legend(0)).toEqual([]);
  });
  it("ranks the busiest areas, ties by name", () => {
    expect(topAreas(AREAS, "signals").map((a) => a.code)).toEqual(["06", "48", "36"]);
    expect(topAreas([...AREAS, { code: "01", name: "Alabama", leads: 40, signals: 0 }], "leads", 2).map((a) => a.name))
      .toEqual(["Alabama", "Texas"]);
  });
});

describe("points", () => {
  it("projects centroids onto the 975 × 610 Albers USA frame and leaves out what it cannot place", () => {
    const placed = placePoints([
      { latitude: 30.2672, longitude: -97.7431, leads: 4 }, // Austin
      { latitude: 40.7128, longitude: -74.006, leads: 1 }, // New York
      { latitude: 48.8566, longitude: 2.3522, leads: 9 }, // Paris: outside the projection
    ]);
    expect(placed).toHaveLength(2);
    const austin = placed[0]!;
    const newYork = placed[1]!;
    expect(austin.leads).toBe(4);
    expect(austin.x).toBeGreaterThan(400);
    expect(austin.x).toBeLessThan(500);
    expect(austin.y).toBeGreaterThan(450);
    expect(newYork.x).toBeGreaterThan(850);
    expect(newYork.y).toBeLessThan(250);
    expect(austin.r).toBeGreaterThan(newYork.r);
  });
});
