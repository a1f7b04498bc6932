import { describe, expect, it } from "vitest";
import { readBearerToken } from "../../src/auth/index.js";
import { GatewayError } from "../../src/errors/index.js";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl";

describe("readBearerToken", () => {
  it("returns undefined without an Authorization header", () => {
    expect(readBearerToken(undefined)).toBeUndefined();
  });

  it("returns the token of a bearer header", () => {
    expect(readBearerToken(`Bearer ${JWT}`)).toBe(JWT);
  });

  it("accepts the scheme in any case and surrounding spaces", () => {
    expect(readBearerToken(`bearer ${JWT}`)).toBe(JWT);
    expect(readBearerToken(`  BEARER   ${JWT}  `)).toBe(JWT);
  });

  it.each([
    ["an empty header", ""],
    ["a blank header", "   "],
    ["Bearer with nothing after it", "Bearer"],
    ["Bearer with only spaces after it", "Bearer   "],
    ["the Basic scheme", "Basic dXNlcjpwYXNz"],
    ["a token without a scheme", JWT],
    ["two tokens", `Bearer ${JWT} ${JWT}`],
    ["a comma-joined pair of headers", `Bearer ${JWT}, Bearer ${JWT}`],
    ["characters outside token68", "Bearer abc$def"],
    ["a scheme glued to the token", `Bearer${JWT}`],
  ])("refuses %s with UNAUTHENTICATED", (_, header) => {
    let caught: unknown;
    try {
      readBearerToken(header);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).code).toBe("UNAUTHENTICATED");
    expect((caught as GatewayError).message).toBe(
      "Send the token as 'Authorization: Bearer <token>'.",
    );
  });
});
