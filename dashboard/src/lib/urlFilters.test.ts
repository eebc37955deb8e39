import { describe, expect, it } from "vitest";
import {
  activeFilterCount,
  DEFAULT_FILTERS,
  filtersToParams,
  filtersToQuery,
  parseFilters,
  type FeedFilters,
} from "./urlFilters";

const everything: FeedFilters = {
  sort: "score",
  type: "promotion",
  priority: "urgent",
  status: "acknowledged",
  assignee: "me",
  team: "North",
  portfolio: "Bank loans",
  source: "apify-linkedin",
  q: "lovelace",
  lead: "0b9d9a2e-2c1f-4d3e-8f5a-1234567890ab",
  effectiveFrom: "2026-03-01",
  effectiveTo: "2026-03-31",
  since: "2026-12-01T08:00:00Z",
  until: "2026-12-06",
  escalated: true,
};

describe("filters ↔ URL", () => {
  it("an empty URL is the defaults, and the defaults write an empty URL", () => {
    expect(parseFilters(new URLSearchParams())).toEqual(DEFAULT_FILTERS);
    expect(filtersToParams(DEFAULT_FILTERS).toString()).toBe("");
    expect(filtersToQuery(DEFAULT_FILTERS)).toEqual({ sort: "detected_at" });
    expect(activeFilterCount(DEFAULT_FILTERS)).toBe(0);
  });

  it("every filter survives the round trip", () => {
    const params = filtersToParams(everything);
    expect(parseFilters(new URLSearchParams(params.toString()))).toEqual(everything);
    expect(params.get("from")).toBe("2026-03-01");
    expect(params.get("to")).toBe("2026-03-31");
    expect(params.get("escalated")).toBe("true");
    expect(activeFilterCount(everything)).toBe(14);
  });

  it("URL → filters → URL is stable and in a fixed order", () => {
    const url = "priority=high&sort=score&assignee=none&type=job_loss";
    const once = filtersToParams(parseFilters(new URLSearchParams(url))).toString();
    expect(once).toBe("sort=score&type=job_loss&priority=high&assignee=none");
    expect(filtersToParams(parseFilters(new URLSearchParams(once))).toString()).toBe(once);
  });

  it("a default value is left out of the URL", () => {
    const params = filtersToParams({ ...DEFAULT_FILTERS, sort: "detected_at", escalated: false });
    expect(params.toString()).toBe("escalated=false");
  });

  it("values the API would refuse by their form fall back to the default", () => {
    const parsed = parseFilters(
      new URLSearchParams(
        "priority=extreme&type=lottery_win&status=open&sort=random&from=2026-13-45&to=March&since=yesterday" +
          "&escalated=maybe&lead=not-a-uuid&q=%20%20",
      ),
    );
    expect(parsed).toEqual(DEFAULT_FILTERS);
  });

  it("free text is trimmed and loose spellings are read", () => {
    const parsed = parseFilters(new URLSearchParams("team=%20North%20&escalated=1&lead=0B9D9A2E-2C1F-4D3E-8F5A-1234567890AB"));
    expect(parsed.team).toBe("North");
    expect(parsed.escalated).toBe(true);
    expect(parsed.lead).toBe("0b9d9a2e-2c1f-4d3e-8f5a-1234567890ab");
  });

  it("unknown parameters are ignored when reading and kept when writing", () => {
    const url = new URLSearchParams("utm_source=mail&priority=low&focus=abc&priority=high");
    const filters = parseFilters(url);
    expect(filters.priority).toBe("low"); // the first of a repeated parameter
    const next = filtersToParams({ ...filters, status: "new" }, url);
    expect(next.toString()).toBe("utm_source=mail&focus=abc&priority=low&status=new");
    // a filter cleared is removed, the others stay
    expect(filtersToParams({ ...filters, priority: null }, url).toString()).toBe("utm_source=mail&focus=abc");
  });

  it("maps to the API's parameter names", () => {
    expect(filtersToQuery(everything)).toEqual({
      sort: "score",
      type: "promotion",
      priority: "urgent",
      status: "acknowledged",
      assignee: "me",
      team: "North",
      portfolio: "Bank loans",
      source: "apify-linkedin",
      q: "lovelace",
      lead_id: "0b9d9a2e-2c1f-4d3e-8f5a-1234567890ab",
      effective_from: "2026-03-01",
      effective_to: "2026-03-31",
      since: "2026-12-01T08:00:00Z",
      until: "2026-12-06",
      escalated: true,
    });
    expect(filtersToQuery({ ...DEFAULT_FILTERS, escalated: false })).toEqual({ sort: "detected_at", escalated: false });
  });
});
