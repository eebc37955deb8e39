import { describe, expect, it } from "vitest";
import { activeFilterCount, EMPTY_FILTERS, filtersToParams, parseFilters, toApiQuery } from "./filters";

describe("lead filters in the URL", () => {
  it("round-trips every filter through the URL", () => {
    const filters = {
      q: "ada",
      status: "promise" as const,
      portfolio: "Spring book",
      team: "5a331749-e2b9-4b93-bd21-8297a7103156",
      assignee: "me",
      state: "TX",
      minDays: "90",
      sort: "days_delinquent" as const,
    };
    const params = filtersToParams(filters);
    expect(params.toString()).toBe(
      "q=ada&status=promise&portfolio=Spring+book&team=5a331749-e2b9-4b93-bd21-8297a7103156&assignee=me&state=TX&min_days=90&sort=days_delinquent",
    );
    expect(parseFilters(params)).toEqual(filters);
  });

  it("leaves defaults and empty values out, and keeps other parameters", () => {
    const params = filtersToParams({ ...EMPTY_FILTERS, status: "new" }, new URLSearchParams("tab=x&q=old"));
    expect(params.toString()).toBe("tab=x&status=new");
  });

  it("drops values the API would refuse instead of failing the page", () => {
    const parsed = parseFilters(new URLSearchParams("status=won&state=texas&min_days=-3&team=abc&sort=name"));
    expect(parsed).toEqual(EMPTY_FILTERS);
    expect(parseFilters(new URLSearchParams("state=tx&min_days=007")).state).toBe("TX");
    expect(parseFilters(new URLSearchParams("min_days=007")).minDays).toBe("7");
  });

  it("builds the API query with the API's parameter names", () => {
    const filters = parseFilters(new URLSearchParams("q=+ada+&assignee=none&team=5A331749-E2B9-4B93-BD21-8297A7103156&min_days=30"));
    expect(toApiQuery(filters)).toEqual({
      q: "ada",
      assignee: "none",
      team_id: "5a331749-e2b9-4b93-bd21-8297a7103156",
      min_days_delinquent: 30,
    });
    expect(toApiQuery(EMPTY_FILTERS)).toEqual({});
    expect(toApiQuery({ ...EMPTY_FILTERS, sort: "days_delinquent" })).toEqual({ sort: "days_delinquent" });
  });

  it("counts the narrowing filters (not the search or the order)", () => {
    expect(activeFilterCount({ ...EMPTY_FILTERS, q: "x", sort: "days_delinquent" })).toBe(0);
    expect(activeFilterCount({ ...EMPTY_FILTERS, status: "new", state: "TX" })).toBe(2);
  });
});
