import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { buildGateway } from "./gateway-build.js";

/** The second PostgreSQL server (database-per-tenant tenants, "another region"). */
const DEFAULT_SECOND_DATABASE_URL = "postgresql://postgres@127.0.0.1:5433/postgres";

const SCRIPT = fileURLToPath(new URL("../../scripts/ensure-second-cluster.sh", import.meta.url));

/**
 * Vitest globalSetup: before any test file runs, compiles the gateway that
 * tests start as real processes (see gateway-build.ts) and makes sure the
 * second PostgreSQL server answers.
 */
export default async function setup(): Promise<void> {
  await Promise.all([buildGateway(), ensureSecondCluster()]);
}

/**
 * Makes sure the second PostgreSQL cluster answers on 127.0.0.1:5433
 * (creating and starting it when needed). Skipped when SECOND_DATABASE_URL
 * points somewhere else: whoever set it provides that server.
 */
async function ensureSecondCluster(): Promise<void> {
  const url = process.env.SECOND_DATABASE_URL;
  if (url !== undefined && url !== "" && url !== DEFAULT_SECOND_DATABASE_URL) {
    return;
  }
  try {
    await promisify(execFile)("bash", [SCRIPT], { timeout: 180_000 });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    const output = `${stdout}${stderr}`.trim() || String(error);
    throw new Error(`${SCRIPT} could not start the second PostgreSQL server:\n${output}`, {
      cause: error,
    });
  }
}
