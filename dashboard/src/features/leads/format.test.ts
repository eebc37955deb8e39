import { describe, expect, it } from "vitest";
import { dayKey, dayLabel, formatMoment, groupByDay, isKnownZone } from "./format";

describe("times on the lead pages", () => {
  it("puts a moment on the calendar day of the zone it is read in", () => {
    const late = "2026-12-07T03:30:00Z"; // 9:30 pm on the 6th in Chicago
    expect(dayKey(late, "America/Chicago")).toBe("2026-12-06");
    expect(dayKey(late, "UTC")).toBe("2026-12-07");
  });

  it("groups by day, newest day and newest item first", () => {
    const items = [
      { at: "2026-12-05T10:00:00Z", id: "a" },
      { at: "2026-12-06T09:00:00Z", id: "b" },
      { at: "2026-12-06T18:00:00Z", id: "c" },
    ];
    const groups = groupByDay(items, (item) => item.at, "UTC");
    expect(groups.map(([day, entries]) => [day, entries.map((e) => e.id)])).toEqual([
      ["2026-12-06", ["c", "b"]],
      ["2026-12-05", ["a"]],
    ]);
  });

  it("names today and yesterday", () => {
    const now = new Date("2026-12-06T12:00:00Z");
    expect(dayLabel("2026-12-06", now, "UTC")).toBe("Today");
    expect(dayLabel("2026-12-05", now, "UTC")).toBe("Yesterday");
    expect(dayLabel("2026-12-01", now, "UTC")).toContain("2026");
  });

  it("shows a moment with its zone, and knows which zones exist", () => {
    const text = formatMoment("2026-12-08T14:00:00Z", "America/Chicago");
    expect(text).toMatch(/8:00/);
    expect(text).toMatch(/CST/);
    expect(isKnownZone("America/Chicago")).toBe(true);
    expect(isKnownZone("Mars/Olympus")).toBe(false);
    expect(isKnownZone(null)).toBe(false);
  });
});
