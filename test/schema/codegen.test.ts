import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "@graphql-codegen/cli";
import { describe, expect, it } from "vitest";
import config from "../../codegen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const GENERATED_DIR = "test/generated";
const RUN_CODEGEN = "run `npm run codegen` and commit the result";

interface GeneratedFile {
  filename: string;
  content: string;
}

/** Runs codegen with the committed config, keeping its output in memory. */
async function generateInMemory(): Promise<Map<string, string>> {
  const outputs = (await generate(
    { ...config, cwd: ROOT, silent: true },
    false,
  )) as GeneratedFile[];

  return new Map(outputs.map((file) => [file.filename, file.content]));
}

describe("the generated operation types", () => {
  it("match what codegen makes from schema.graphql and test/operations", async () => {
    const expected = await generateInMemory();
    const committed = await readdir(join(ROOT, GENERATED_DIR)).catch(() => []);

    // Files codegen no longer makes are stale too.
    expect(
      committed.map((name) => `${GENERATED_DIR}/${name}`).sort(),
      `${GENERATED_DIR} is stale: ${RUN_CODEGEN}`,
    ).toEqual([...expected.keys()].sort());
    for (const [filename, content] of expected) {
      const onDisk = await readFile(join(ROOT, filename), "utf8");
      expect(onDisk, `${filename} is stale: ${RUN_CODEGEN}`).toBe(content);
    }
  });
});
