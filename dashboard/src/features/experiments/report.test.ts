import { describe, expect, it } from "vitest";
import {
  formatInterval,
  formatLift,
  formatP,
  formatPoints,
  formatSignedMoney,
  formatThreshold,
  kaplanMeierRows,
  overallSection,
  parseReport,
  sectionLabel,
  type SurvivalCurve,
} from "./report";
import { REPORT_JSON } from "./reportFixture";

describe("reading the report", () => {
  it("reads the backend's JSON: header, rule, sections with both blocks, curves and strata", () => {
    const report = parseReport(REPORT_JSON);
    expect(report.experiment).toEqual({
      id: "5b0e6a3c-6f1e-4a57-9d3c-2f1f0f7d9a11",
      name: "timing-2027",
      status: "running",
      as_of: "2027-03-01T12:00:00+00:00",
    });
    expect(report).toMatchObject({ leads: 1200, conversion_days: 90, interim: true, alpha: 0.05, alpha_used: 0.0128 });
    expect(report.significance_rule).toMatch(/^Interim look at 62%/);
    expect(report.sections.map((s) => s.section)).toEqual(["all", "new_employment", "promotion"]);
    const all = overallSection(report)!;
    expect(all.itt.block).toBe("itt");
    expect(all.per_protocol.block).toBe("per_protocol");
    expect(all.per_protocol.label).toMatch(/^Per protocol/);
    expect(all.itt.conversion).toMatchObject({ control_n: 120, treatment_n: 1080, p_value: 0.4107 });
    expect(all.itt.conversion.difference_ci).toEqual([-0.043993, 0.075837]);
    const curve = all.itt.time_to_payment.control!;
    expect(curve.times.length).toBe(curve.survival.length);
    expect(curve.events).toBe(13);
    expect(report.strata).toHaveLength(4);
  });

  it("turns missing and mistyped values into nulls, and refuses what is not an object", () => {
    const report = parseReport({ sections: [{ itt: { conversion: { p_value: "0.01", difference_ci: [0.1] } } }], strata: "x" });
    const all = overallSection(report)!;
    expect(all.section).toBe("?");
    expect(all.itt.conversion.p_value).toBeNull();
    expect(all.itt.conversion.difference_ci).toEqual([0.1, null]);
    expect(all.per_protocol.conversion.control_n).toBe(0);
    expect(all.itt.time_to_payment.control).toBeNull();
    expect(report.strata).toEqual([]);
    expect(report.interim).toBe(false);
    expect(overallSection(parseReport({}))).toBeNull();
    expect(() => parseReport("not json")).toThrow(/could not be read/);
    expect(() => parseReport([1, 2])).toThrow();
  });
});

describe("report numbers", () => {
  it("writes differences in points, lifts in percent, money with its sign, p-values briefly", () => {
    expect(formatPoints(0.026852)).toBe("+2.69 pts");
    expect(formatPoints(-0.043993)).toBe("−4.40 pts");
    expect(formatPoints(0)).toBe("0.00 pts");
    expect(formatLift(1.0453)).toBe("+104.5%");
    expect(formatInterval([-0.2839, 1.0453], formatLift)).toBe("−28.4% to +104.5%");
    expect(formatInterval([null, 0.2], formatLift)).toBe("—");
    expect(formatSignedMoney(-56.14)).toBe("−$56.14");
    expect(formatSignedMoney(19.57)).toBe("+$19.57");
    expect(formatP(0.4107)).toBe("0.411");
    expect(formatP(0.00001)).toBe("< 0.0001");
    expect(formatP(null)).toBe("—");
    expect(formatThreshold(0.0128)).toBe("0.0128");
    expect(formatThreshold(1.557e-85)).toBe("1.56e-85"); // a first look's threshold, not "< 0.0001"
    expect(sectionLabel("all")).toBe("All leads");
    expect(sectionLabel("new_employment")).toBe("New employment");
  });

  it("lays both Kaplan–Meier step curves on shared days, each ending at its follow-up", () => {
    const control: SurvivalCurve = { n: 4, events: 2, times: [5, 20], survival: [0.75, 0.5], at_risk: [4, 3], max_days: 30 };
    const treatment: SurvivalCurve = { n: 2, events: 1, times: [10], survival: [0.5], at_risk: [2], max_days: 40 };
    expect(kaplanMeierRows(control, treatment)).toEqual([
      { days: 0, control: 100, treatment: 100 },
      { days: 5, control: 75, treatment: 100 },
      { days: 10, control: 75, treatment: 50 },
      { days: 20, control: 50, treatment: 50 },
      { days: 30, control: 50, treatment: 50 },
      { days: 40, treatment: 50 },
    ]);
    expect(kaplanMeierRows(null, null)).toEqual([{ days: 0 }]);
  });
});
