import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The console's static files: `src/admin-console/public/`, found two folders
 * above this file. That holds for every way the gateway runs: from `src/`
 * (tsx, vitest), from `dist/` (`npm start`; tsc copies no HTML, CSS or JS,
 * so the compiled module reads the sources' folder) and from the test
 * processes' build, which links `src/admin-console/public` beside it (see
 * test/support/gateway-build.ts). A deployment that ships `dist/` ships
 * this folder beside it, as it ships `prisma/` for the migrations.
 */
const PUBLIC_DIR = fileURLToPath(new URL("../../src/admin-console/public/", import.meta.url));

/** The page; every other file is served under `/admin/assets/`. */
const PAGE_FILE = "index.html";

/** chart.js exports no subpath for its browser build: it sits beside the main file. */
const CHART_FILE = "chart.umd.js";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

export interface ConsoleAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

export interface ConsoleAssets {
  readonly page: ConsoleAsset;
  /** By file name, e.g. `console.js` or `chart.umd.js`. */
  readonly files: ReadonlyMap<string, ConsoleAsset>;
}

function chartPath(): string {
  const main = createRequire(import.meta.url).resolve("chart.js");

  return join(dirname(main), CHART_FILE);
}

async function readAsset(path: string): Promise<ConsoleAsset> {
  const contentType = CONTENT_TYPES[extname(path)];
  if (!contentType) throw new Error(`The admin console cannot serve ${path}: unknown file type.`);

  return { body: await readFile(path), contentType };
}

/** Files of a type the console serves; anything else in the folder stays private. */
function isServed(name: string): boolean {
  return name !== PAGE_FILE && CONTENT_TYPES[extname(name)] !== undefined;
}

/**
 * Reads every file of the console into memory once, at start: they are a
 * few dozen kilobytes (chart.js about 200), and a missing one stops the
 * start instead of breaking the page later.
 */
export async function loadConsoleAssets(): Promise<ConsoleAssets> {
  const names = await readdir(PUBLIC_DIR).catch((error: unknown) => {
    throw new Error(`The admin console's files are missing: ${PUBLIC_DIR} cannot be read.`, {
      cause: error,
    });
  });
  const files = new Map<string, ConsoleAsset>();
  for (const name of names.filter(isServed)) {
    files.set(name, await readAsset(join(PUBLIC_DIR, name)));
  }
  files.set(CHART_FILE, await readAsset(chartPath()));

  return { page: await readAsset(join(PUBLIC_DIR, PAGE_FILE)), files };
}
