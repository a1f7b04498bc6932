import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isErrorCode } from "../../src/errors/index.js";

const CONTRACT_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "TENANT_REQUIRED",
  "TENANT_NOT_FOUND",
  "TENANT_MISMATCH",
  "TENANT_SUSPENDED",
  "BAD_USER_INPUT",
  "NOT_FOUND",
  "RATE_LIMITED",
  "QUOTA_EXCEEDED",
  "FEATURE_DISABLED",
  "INTERNAL_SERVER_ERROR",
];

describe("the error registry", () => {
  it("holds exactly the contract's codes", () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual([...CONTRACT_CODES].sort());
    expect(isErrorCode("GRAPHQL_PARSE_FAILED")).toBe(false);
  });

  it("documents every code in the README", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const undocumented = Object.keys(ERROR_CODES).filter(
      (code) => !readme.includes(`| \`${code}\` |`),
    );
    expect(undocumented).toEqual([]);
  });
});
