import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/index.js";
import { requireEmail, requireText } from "../../src/modules/common/validate.js";

/** The BAD_USER_INPUT that `check` throws: its field and message. */
function refusalOf(check: () => unknown): { field: unknown; message: string } {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    const refusal = error as GatewayError;
    expect(refusal.code).toBe("BAD_USER_INPUT");
    return { field: refusal.extensions.field, message: refusal.message };
  }
  throw new Error("expected a BAD_USER_INPUT refusal, got a value");
}

const BIDI_CONTROLS = [
  ["U+202A left-to-right embedding", "\u202a"],
  ["U+202B right-to-left embedding", "\u202b"],
  ["U+202C pop directional formatting", "\u202c"],
  ["U+202D left-to-right override", "\u202d"],
  ["U+202E right-to-left override", "\u202e"],
  ["U+2066 left-to-right isolate", "\u2066"],
  ["U+2067 right-to-left isolate", "\u2067"],
  ["U+2068 first strong isolate", "\u2068"],
  ["U+2069 pop directional isolate", "\u2069"],
  ["U+200E left-to-right mark", "\u200e"],
  ["U+200F right-to-left mark", "\u200f"],
  ["U+061C Arabic letter mark", "\u061c"],
] as const;

describe("requireText", () => {
  it("returns the text trimmed", () => {
    expect(requireText("name", "  Ada Lovelace \n")).toBe("Ada Lovelace");
  });

  it("normalizes the text to NFC", () => {
    const decomposed = "Rene\u0301e";
    expect(requireText("name", decomposed)).toBe("Ren\u00e9e");
  });

  it("keeps scripts that need combining marks and joiners", () => {
    expect(requireText("name", "देवनागरी")).toBe("देवनागरी");
    expect(requireText("name", "👩\u200d💻 team")).toBe("👩\u200d💻 team");
  });

  it.each(BIDI_CONTROLS)("refuses the bidi control %s, naming the field", (_, control) => {
    expect(refusalOf(() => requireText("name", `invoice${control}fdp.exe`))).toEqual({
      field: "name",
      message: "name must not contain bidirectional control characters.",
    });
  });

  it.each([
    ["U+0001", "a\u0001b"],
    ["a newline", "a\nb"],
    ["DEL", "a\u007fb"],
    ["the C1 control U+0085", "a\u0085b"],
    ["the line separator U+2028", "a\u2028b"],
    ["the paragraph separator U+2029", "a\u2029b"],
  ])("refuses the control character %s", (_, text) => {
    expect(refusalOf(() => requireText("title", text))).toEqual({
      field: "title",
      message: "title must not contain control characters.",
    });
  });

  it.each([
    ["a zero-width space and a no-break space", "\u200b\u00a0"],
    ["zero-width joiners", "\u200d\u200c\u2060"],
    ["a soft hyphen", "\u00ad"],
    ["Hangul fillers", "\u3164\u115f"],
    ["the blank braille pattern", "\u2800\u2800"],
    ["a combining mark with no base", "\u0301"],
    ["an ideographic space and a byte order mark", "\u3000\ufeff\u200b"],
  ])("refuses a name made only of %s", (_, text) => {
    expect(refusalOf(() => requireText("name", text))).toEqual({
      field: "name",
      message: "name must contain a visible character.",
    });
  });

  it("refuses text that trims to nothing as empty", () => {
    expect(refusalOf(() => requireText("name", " \u00a0\t "))).toEqual({
      field: "name",
      message: "name must not be empty.",
    });
  });

  it("refuses an unpaired surrogate", () => {
    expect(refusalOf(() => requireText("name", "a\ud800b"))).toEqual({
      field: "name",
      message: "name must be well-formed text.",
    });
  });

  it("refuses text longer than the limit", () => {
    expect(refusalOf(() => requireText("name", "x".repeat(11), 10))).toEqual({
      field: "name",
      message: "name must be at most 10 characters.",
    });
  });
});

describe("requireEmail", () => {
  it("returns the address trimmed, lowercased and in NFC", () => {
    expect(requireEmail("email", "  Rene\u0301E@Example.IO ")).toBe("ren\u00e9e@example.io");
  });

  it("refuses a control character inside the address, naming the field", () => {
    expect(refusalOf(() => requireEmail("adminEmail", "a\u0001b@x.io"))).toEqual({
      field: "adminEmail",
      message: "adminEmail must not contain control characters.",
    });
  });

  it.each(BIDI_CONTROLS)("refuses the bidi control %s", (_, control) => {
    expect(refusalOf(() => requireEmail("email", `admin${control}@x.io`))).toEqual({
      field: "email",
      message: "email must not contain bidirectional control characters.",
    });
  });

  it.each([
    ["a zero-width space", "ad\u200bmin@x.io"],
    ["a soft hyphen", "ad\u00admin@x.io"],
    ["a word joiner", "admin@x\u2060.io"],
  ])("refuses %s, which would make a look-alike address", (_, email) => {
    expect(refusalOf(() => requireEmail("email", email))).toEqual({
      field: "email",
      message: "email must not contain invisible formatting characters.",
    });
  });

  it("refuses text that is not an address", () => {
    expect(refusalOf(() => requireEmail("email", "not an address"))).toEqual({
      field: "email",
      message: "email must be an email address.",
    });
  });
});
