import { describe, expect, it } from "vitest";
import type { Schemas } from "@/api/client";
import { changedFields, digestFromApi, digestPatch, sourceLabel } from "./digestForm";

const effective: Schemas["Preferences"] = {
  frequency: "weekdays",
  send_time: "07:30",
  weekly_day: 0,
  signal_types: null,
  min_priority: "high",
  portfolios: ["Card A"],
  teams: null,
  include_not_contactable: true,
  format: "html",
  send_empty: false,
  timezone: "America/Chicago",
  sources: { frequency: "team", min_priority: "team", portfolios: "user" },
};

describe("the digest form", () => {
  it("sends only what changed", () => {
    const form = { ...digestFromApi(effective), send_time: "06:15", signal_types: ["promotion"] };
    expect(changedFields(form, effective)).toEqual(["send_time", "signal_types"]);
    expect(digestPatch(form, effective)).toEqual({ send_time: "06:15", signal_types: ["promotion"] });
  });

  it("sends an emptied list or any priority as null (inherit)", () => {
    const form = { ...digestFromApi(effective), portfolios: [], min_priority: "" as const };
    expect(digestPatch(form, effective)).toEqual({ portfolios: null, min_priority: null });
  });

  it("names where a value comes from", () => {
    expect([sourceLabel("user"), sourceLabel("team"), sourceLabel("default"), sourceLabel(undefined)]).toEqual([
      "Set by you",
      "Your team's default",
      "Default",
      "Default",
    ]);
  });
});
