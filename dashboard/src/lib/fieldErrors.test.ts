import { describe, expect, it } from "vitest";
import { ApiError } from "@/api/client";
import { formErrors, messagesFor, normalizeField, unclaimed } from "./fieldErrors";

describe("normalizeField", () => {
  it.each([
    ["body.rule_name", "rule_name"],
    ["conditions.min_score", "conditions.min_score"],
    ["recipients.users[2]", "recipients.users"],
    ["body.items.3.text", "items.text"],
    ["query.since", "since"],
    ["portfolios[0]", "portfolios"],
    ["body", "body"],
  ])("%s → %s", (field, expected) => expect(normalizeField(field)).toBe(expected));
});

describe("formErrors", () => {
  it("keys the API's items by field and keeps the sentence only when some item names none", () => {
    const error = new ApiError("conditions: conditions.min_score: too big", 422, {
      detail: "conditions: conditions.min_score: too big",
      errors: [
        { field: "conditions.min_score", message: "Input should be less than or equal to 100" },
        { field: "conditions", message: "Value error, balance_max is below balance_min" },
        { field: "conditions.assignees[0]", message: "no such name: 'nobody'" },
      ],
    });
    const errors = formErrors(error);
    expect(errors.general).toBeNull();
    expect(errors.fields["conditions.min_score"]).toEqual(["Input should be less than or equal to 100"]);
    expect(errors.fields.conditions).toEqual(["balance_max is below balance_min"]);
    expect(messagesFor(errors, "conditions", true)).toHaveLength(3);
    expect(unclaimed(errors, ["conditions", "conditions.min_score"])).toEqual([
      "conditions.assignees: no such name: 'nobody'",
    ]);
  });

  it("falls back to the error's message (a 403, a 409)", () => {
    const errors = formErrors(new ApiError("managers make rules for their own team only", 403, { detail: "x" }));
    expect(errors).toEqual({ fields: {}, general: "managers make rules for their own team only" });
    expect(formErrors(null)).toEqual({ fields: {}, general: null });
  });
});
