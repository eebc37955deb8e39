import { describe, expect, it } from "vitest";
import { describeGuard } from "./guard";

// 2026-12-07 13:00 UTC = 8:00 AM in New York, 7:00 AM in Chicago.
const now = new Date("2026-12-07T13:00:00Z");
const opts = { leadZone: "America/Chicago", viewerZone: "America/New_York", now };
// ICU versions differ in the space before AM/PM (U+202F or a plain space).
const plain = (text: string | null) => text?.replace(/\s/g, " ") ?? null;

describe("describeGuard", () => {
  it("says now when the channel is open", () => {
    expect(describeGuard({ allowed: true, reasons: [], next_allowed_at: null }, opts)).toMatchObject({
      tone: "ok",
      text: "now",
    });
  });

  it("gives the viewer's time with the borrower's clock next to it", () => {
    const view = describeGuard({ allowed: false, reasons: ["time_window"], next_allowed_at: "2026-12-07T14:00:00Z" }, opts);
    expect(view.tone).toBe("warn");
    expect(plain(view.text)).toBe("after 9:00 AM");
    expect(plain(view.borrower)).toBe("8:00 AM CT borrower's time");
    expect(view.reasons).toEqual(["outside calling hours"]);
  });

  it("names the day when it is not today", () => {
    const view = describeGuard({ allowed: false, reasons: ["call_frequency_7in7"], next_allowed_at: "2026-12-09T15:00:00Z" }, opts);
    expect(plain(view.text)).toMatch(/^from Wed,? (9 Dec|Dec 9)/);
    expect(plain(view.borrower)).toMatch(/9:00 AM CT borrower's time$/);
  });

  it("refuses outright under a flag, and names other refusals without a time", () => {
    expect(describeGuard({ allowed: false, reasons: ["cease"], next_allowed_at: null }, opts).text).toBe("do not contact: cease");
    expect(describeGuard({ allowed: false, reasons: ["workplace"], next_allowed_at: null }, opts)).toMatchObject({
      tone: "danger",
      text: "not allowed: workplace contact",
    });
  });

  it("leaves the borrower's time out when their zone is unknown", () => {
    const view = describeGuard({ allowed: false, reasons: ["time_window"], next_allowed_at: "2026-12-07T14:00:00Z" }, { ...opts, leadZone: null });
    expect(view.borrower).toBeNull();
  });
});
