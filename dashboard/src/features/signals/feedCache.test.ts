import { describe, expect, it } from "vitest";
import { flatten, mergeArrivals, replaceSignal, type FeedData, type Signal } from "./feedCache";
import { answerGroups } from "./useGuardAnswers";

function signal(id: string, detected: string, score = 50, lead = `lead-${id}`): Signal {
  return { id, lead_id: lead, detected_at: detected, score, status: "new" } as Signal;
}

function data(pages: Signal[][], more = false): FeedData {
  return {
    pages: pages.map((items, index) => ({
      items,
      total: null,
      total_is_exact: null,
      limit: 50,
      offset: 0,
      next_cursor: more && index === pages.length - 1 ? "cursor" : null,
    })),
    pageParams: pages.map((_, index) => (index === 0 ? null : `p${index}`)),
  };
}

const T = (minute: number) => `2026-12-06T10:${String(minute).padStart(2, "0")}:00Z`;

describe("mergeArrivals", () => {
  it("puts new signals on top of a newest-first list, once", () => {
    const before = data([[signal("c", T(3)), signal("b", T(2))], [signal("a", T(1))]]);
    const { data: after, added } = mergeArrivals(before, [signal("e", T(5)), signal("d", T(4)), signal("c", T(3))], "detected_at");
    expect(added).toEqual(["e", "d"]);
    expect(flatten(after).map((item) => item.id)).toEqual(["e", "d", "c", "b", "a"]);
    expect(after?.pages.map((page) => page.items.length)).toEqual([4, 1]); // the first page grew
  });

  it("places them by score in a score-sorted list, leaving those below the loaded ones for later pages", () => {
    const before = data([[signal("x", T(1), 90), signal("y", T(2), 60)]], true);
    const { data: after, added } = mergeArrivals(before, [signal("n1", T(9), 75), signal("n2", T(9), 10)], "score");
    expect(added).toEqual(["n1"]);
    expect(flatten(after).map((item) => item.id)).toEqual(["x", "n1", "y"]);
    expect(after?.pages[0]?.next_cursor).toBe("cursor");
  });

  it("anything goes in when there is nothing more to load", () => {
    const before = data([[signal("x", T(1), 90)]]);
    expect(flatten(mergeArrivals(before, [signal("low", T(9), 5)], "score").data).map((item) => item.id)).toEqual(["x", "low"]);
  });

  it("leaves the data alone when nothing is new", () => {
    const before = data([[signal("a", T(1))]]);
    expect(mergeArrivals(before, [signal("a", T(1))], "detected_at").data).toBe(before);
    expect(mergeArrivals(undefined, [signal("a", T(1))], "detected_at")).toEqual({ data: undefined, added: [] });
  });
});

describe("replaceSignal", () => {
  it("replaces in whichever page holds it, and keeps the object when absent", () => {
    const before = data([[signal("a", T(2))], [signal("b", T(1))]]);
    const after = replaceSignal(before, "b", (item) => ({ ...item, status: "dismissed" }));
    expect(after?.pages[1]?.items[0]?.status).toBe("dismissed");
    expect(after?.pages[0]).toBe(before.pages[0]);
    expect(replaceSignal(before, "zzz", (item) => item)).toBe(before);
  });
});

describe("answerGroups", () => {
  it("asks once per lead, one group per page, at most 100 leads a group", () => {
    const big = Array.from({ length: 130 }, (_, n) => signal(`s${n}`, T(1), 50, `lead-${n}`));
    const groups = answerGroups(data([[signal("a", T(2), 50, "L1"), signal("b", T(2), 50, "L1")], big]));
    expect(groups.map((group) => group.length)).toEqual([1, 100, 30]);
  });
});
