import { describe, expect, it } from "vitest";
import {
  bucketFor,
  bucketsOf,
  chartRowsFor,
  daysBetween,
  formatMinutes,
  humanize,
  MAX_SERIES,
  mondayOf,
  OTHER,
  parseDay,
  pivotSignals,
  rangeFromParams,
  rangeProblem,
  reportQuery,
} from "./analytics";
import { attachmentName, csvHref } from "./api";

const TODAY = "2026-12-06";

describe("the range in the URL", () => {
  it("defaults to the last 30 days, today included", () => {
    expect(rangeFromParams(new URLSearchParams(), TODAY)).toEqual({
      from: "2026-11-07",
      to: "2026-12-06",
      preset: 30,
      days: 30,
    });
  });

  it("takes a preset, and ignores one it does not offer", () => {
    expect(rangeFromParams(new URLSearchParams("days=7"), TODAY)).toMatchObject({ from: "2026-11-30", preset: 7 });
    expect(rangeFromParams(new URLSearchParams("days=90"), TODAY)).toMatchObject({ from: "2026-09-08", days: 90 });
    expect(rangeFromParams(new URLSearchParams("days=12"), TODAY)).toMatchObject({ preset: 30 });
  });

  it("takes a typed range over a preset when it is valid", () => {
    const typed = new URLSearchParams("days=7&from=2026-02-01&to=2026-02-28");
    expect(rangeFromParams(typed, TODAY)).toEqual({ from: "2026-02-01", to: "2026-02-28", preset: null, days: 28 });
    const inverted = new URLSearchParams("from=2026-03-01&to=2026-02-01&days=7");
    expect(rangeFromParams(inverted, TODAY)).toMatchObject({ preset: 7, to: TODAY });
    expect(rangeFromParams(new URLSearchParams("from=2026-02-30&to=2026-03-01"), TODAY).preset).toBe(30);
  });

  it("says what is wrong with a typed range", () => {
    expect(rangeProblem("2026-01-01", "2026-01-01")).toBeNull();
    expect(rangeProblem("", "2026-01-01")).toMatch(/both/);
    expect(rangeProblem("2026-01-02", "2026-01-01")).toMatch(/on or before/);
    expect(rangeProblem("2025-01-01", "2026-01-01")).toBeNull(); // 366 days
    expect(rangeProblem("2024-12-31", "2026-01-01")).toMatch(/366/);
  });

  it("knows real days", () => {
    expect(parseDay("2026-02-29")).toBeNull();
    expect(parseDay("2028-02-29")?.toISOString()).toBe("2028-02-29T00:00:00.000Z");
    expect(daysBetween("2026-03-28", "2026-03-30")).toBe(3); // across a DST change anywhere: UTC days
  });

  it("buckets by day for short ranges and by week for long ones, unless asked", () => {
    const short = rangeFromParams(new URLSearchParams("days=30"), TODAY);
    const long = rangeFromParams(new URLSearchParams("days=90"), TODAY);
    expect(bucketFor(new URLSearchParams(), short)).toBe("day");
    expect(bucketFor(new URLSearchParams(), long)).toBe("week");
    expect(bucketFor(new URLSearchParams("bucket=day"), long)).toBe("day");
    expect(bucketFor(new URLSearchParams("bucket=month"), short)).toBe("day");
  });

  it("asks the API for the range and only the team chosen", () => {
    const range = rangeFromParams(new URLSearchParams("days=7"), TODAY);
    expect(reportQuery(range, null)).toEqual({ from: "2026-11-30", to: TODAY });
    expect(reportQuery(range, "all", "week")).toEqual({ from: "2026-11-30", to: TODAY, team: "all", bucket: "week" });
    expect(csvHref("funnel", reportQuery(range, "t 1"))).toBe(
      "/api/v1/analytics/funnel.csv?from=2026-11-30&to=2026-12-06&team=t+1",
    );
  });
});

describe("the signals chart", () => {
  it("lists every day, and every week from the Monday of the first", () => {
    expect(bucketsOf("2026-11-29", "2026-12-01", "day")).toEqual(["2026-11-29", "2026-11-30", "2026-12-01"]);
    expect(mondayOf("2026-11-29")).toBe("2026-11-23"); // a Sunday
    expect(mondayOf("2026-11-30")).toBe("2026-11-30"); // a Monday
    expect(bucketsOf("2026-11-29", "2026-12-14", "week")).toEqual(["2026-11-23", "2026-11-30", "2026-12-07", "2026-12-14"]);
  });

  it("pivots rows into zero-filled buckets per type or source, largest first", () => {
    const rows = [
      { bucket: "2026-11-02", type: "promotion", source: "news", signals: 1 },
      { bucket: "2026-11-02", type: "new_employment", source: "apify", signals: 2 },
      { bucket: "2026-11-04", type: "new_employment", source: "news", signals: 3 },
    ];
    const byType = pivotSignals(rows, "type", "2026-11-01", "2026-11-04", "day");
    expect(byType.series).toEqual(["new_employment", "promotion"]);
    expect(byType.total).toBe(6);
    expect(byType.data).toEqual([
      { bucket: "2026-11-01", total: 0, new_employment: 0, promotion: 0 },
      { bucket: "2026-11-02", total: 3, new_employment: 2, promotion: 1 },
      { bucket: "2026-11-03", total: 0, new_employment: 0, promotion: 0 },
      { bucket: "2026-11-04", total: 3, new_employment: 3, promotion: 0 },
    ]);
    const bySource = pivotSignals(rows, "source", "2026-11-01", "2026-11-04", "day");
    expect(bySource.series).toEqual(["news", "apify"]);
    expect(bySource.data[1]).toEqual({ bucket: "2026-11-02", total: 3, news: 1, apify: 2 });
  });

  it("sums the smaller series into Other", () => {
    const rows = Array.from({ length: MAX_SERIES + 2 }, (_, i) => ({
      bucket: "2026-11-02",
      type: `type_${String(i).padStart(2, "0")}`,
      source: "s",
      signals: 20 - i,
    }));
    const pivot = pivotSignals(rows, "type", "2026-11-02", "2026-11-02", "day");
    expect(pivot.series).toHaveLength(MAX_SERIES);
    expect(pivot.series.at(-1)).toBe(OTHER);
    expect(pivot.data[0]?.[OTHER]).toBe(13 + 12 + 11); // the three smallest
    expect(pivot.total).toBe(rows.reduce((sum, row) => sum + row.signals, 0));
  });
});

describe("labels and formats", () => {
  it("names types, outcomes and sources for people", () => {
    expect(humanize("new_employment")).toBe("New employment");
    expect(humanize("intent_financial_distress")).toBe("Intent: financial distress");
    expect(humanize("promise_to_pay")).toBe("Promise to pay");
    expect(humanize("urgent")).toBe("Urgent");
  });

  it("says durations in minutes, hours and days", () => {
    expect(formatMinutes(null)).toBe("—");
    expect(formatMinutes(0.5)).toBe("30 s");
    expect(formatMinutes(45)).toBe("45 min");
    expect(formatMinutes(81)).toBe("1 h 21 min");
    expect(formatMinutes(120)).toBe("2 h");
    expect(formatMinutes(1500)).toBe("1 d 1 h");
    expect(formatMinutes(2880)).toBe("2 d");
  });

  it("reads the file name the API gives", () => {
    expect(attachmentName('attachment; filename="upswing-funnel-2026-11-01-to-2026-11-30.csv"', "x.csv")).toBe(
      "upswing-funnel-2026-11-01-to-2026-11-30.csv",
    );
    expect(attachmentName(null, "x.csv")).toBe("x.csv");
  });

  it("charts response times per team, agent or priority, leaving out who has not responded", () => {
    const row = (group: "all" | "team" | "agent", name: string, priority: string, responded = 1) => ({
      group,
      id: null,
      name,
      priority,
      signals: 2,
      responded,
      median_minutes: responded ? 10 : null,
      p90_minutes: responded ? 20 : null,
    });
    const rows = [
      row("all", "All teams", "all"),
      row("all", "All teams", "urgent"),
      row("all", "All teams", "low", 0),
      row("team", "North", "all"),
      row("team", "North", "urgent"),
      row("agent", "Ana", "all"),
    ];
    expect(chartRowsFor(rows, "team").map((r) => r.label)).toEqual(["North"]);
    expect(chartRowsFor(rows, "agent").map((r) => r.label)).toEqual(["Ana"]);
    expect(chartRowsFor(rows, "priority").map((r) => r.label)).toEqual(["Urgent"]);
  });
});
