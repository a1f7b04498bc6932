import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logging/index.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { TEST_JWT_SECRET } from "./gateway.js";

/** A gateway as `npm start` runs with no servers: PGlite in memory and an in-memory cache. */
export interface EmbeddedGateway {
  readonly gateway: Gateway;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts the embedded default on a free port, with its files in a new
 * temporary folder, signing tokens with `TEST_JWT_SECRET`; `env` adds to or
 * overrides the settings.
 */
export async function startEmbeddedGateway(
  label: string,
  env: Record<string, string> = {},
): Promise<EmbeddedGateway> {
  const files = await mkdtemp(join(tmpdir(), `ogc-${label}-`));
  const config = loadConfig({
    NODE_ENV: "test",
    DATA_DIR: "memory://",
    JWT_SECRET: TEST_JWT_SECRET,
    STORAGE_DIR: join(files, "storage"),
    EXPORT_DIR: join(files, "exports"),
    TENANT_LOG_DIR: join(files, "tenant-logs"),
    PORT: "0",
    ...env,
  });
  const gateway = await createGateway({
    config,
    logger: createLogger({ level: "silent" }),
    registryTtlMs: 0,
  });
  const url = await gateway.listen(0);

  return {
    gateway,
    url,
    stop: async () => {
      await gateway.stop();
      await rm(files, { recursive: true, force: true });
    },
  };
}
