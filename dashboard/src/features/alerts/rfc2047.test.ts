import { describe, expect, it } from "vitest";
import { decodeRfc2047 } from "./rfc2047";

describe("decodeRfc2047", () => {
  it("decodes Q and B encoded words", () => {
    expect(decodeRfc2047("=?utf-8?q?Caf=C3=A9_au_lait?=")).toBe("Café au lait");
    expect(decodeRfc2047("=?UTF-8?B?Q2Fmw6k=?=")).toBe("Café");
  });

  it("joins adjacent words, dropping the space between them (a folded header from Python's email.header)", () => {
    // Header("1 new signal — Upswing digest for Dana Whitfield, Sun 6 Dec", "utf-8").encode(linesep="")
    const header =
      "=?utf-8?q?1_new_signal_=E2=80=94_Upswing_digest_for_Dana_Whitfield=2C_Sun_6?= =?utf-8?q?_Dec?=";
    expect(decodeRfc2047(header)).toBe("1 new signal — Upswing digest for Dana Whitfield, Sun 6 Dec");
  });

  it("keeps a character split across two words", () => {
    // "—" is E2 80 94: split after its first byte.
    expect(decodeRfc2047("=?utf-8?q?a_=E2?=\r\n =?utf-8?q?=80=94_b?=")).toBe("a — b");
  });

  it("leaves plain text and the text around words as it is", () => {
    expect(decodeRfc2047("Plain subject")).toBe("Plain subject");
    expect(decodeRfc2047("Re: =?utf-8?q?Caf=C3=A9?= today")).toBe("Re: Café today");
    expect(decodeRfc2047(null)).toBe("");
  });

  it("decodes other charsets", () => {
    expect(decodeRfc2047("=?iso-8859-1?q?caf=E9?=")).toBe("café");
  });
});
