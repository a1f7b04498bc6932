import { execFile } from "node:child_process";
import { mkdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Home of the compiled gateway that tests start as real processes (see
 * gateway-process.ts): under `node_modules/.cache/`, where tools keep
 * what they can rebuild, and apart from `dist/`, which `npm run build` owns.
 *
 * - `build/`: `src/` compiled by tsc (decorator metadata, which type-graphql
 *   needs and tsx does not emit), with a package.json saying it is ESM:
 *   under `node_modules` Node does not look up to the project's own;
 * - `prisma`: a link to the project's `prisma/`, since the migrator finds
 *   its migrations two folders above `build/data/migrator.js`;
 * - `src/admin-console/public`: a link to the admin console's page, script
 *   and style, which tsc does not copy and the console finds two folders
 *   above `build/admin-console/`;
 * - `.tsbuildinfo`: so the next run compiles only what changed.
 */
export const GATEWAY_BUILD_ROOT = join(ROOT, "node_modules", ".cache", "ogc-gateway-process");

/** The compiled `src/main.ts`. */
export const GATEWAY_MAIN = join(GATEWAY_BUILD_ROOT, "build", "main.js");

/** tsc's exit code when it found type errors but wrote every file anyway. */
const EMITTED_WITH_ERRORS = 2;

/** Links the project's folder `path` at the same place under the build root. */
async function linkFromProject(path: string): Promise<void> {
  const link = join(GATEWAY_BUILD_ROOT, path);
  const target = join(ROOT, path);
  const current = await readlink(link).catch(() => null);
  if (current === target) return;

  await rm(link, { recursive: true, force: true });
  await mkdir(dirname(link), { recursive: true });
  await symlink(target, link, "dir");
}

/**
 * Compiles the gateway into {@link GATEWAY_BUILD_ROOT}. Runs once per test
 * run, from vitest's globalSetup, so every test file shares one build.
 * Type errors do not stop it (vitest does not type-check either; `npm run
 * typecheck` does): they are printed and the emitted code is used.
 */
export async function buildGateway(): Promise<void> {
  const build = join(GATEWAY_BUILD_ROOT, "build");
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  await mkdir(build, { recursive: true });

  try {
    await promisify(execFile)(
      process.execPath,
      [
        tsc,
        "-p",
        join(ROOT, "tsconfig.json"),
        "--outDir",
        build,
        "--tsBuildInfoFile",
        join(GATEWAY_BUILD_ROOT, ".tsbuildinfo"),
      ],
      { cwd: ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const { code, stdout = "" } = error as { code?: unknown; stdout?: string };
    if (code !== EMITTED_WITH_ERRORS) {
      throw new Error(`Compiling the gateway for process tests failed:\n${stdout}`, {
        cause: error,
      });
    }
    process.stderr.write(
      `[gateway-build] tsc reported type errors; using the emitted code:\n${stdout}\n`,
    );
  }

  await writeFile(join(build, "package.json"), '{ "type": "module" }\n');
  await linkFromProject("prisma");
  await linkFromProject(join("src", "admin-console", "public"));
}
