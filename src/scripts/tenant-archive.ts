/**
 * `npm run tenant:export -- --tenant ID [--out FILE] [--json]`
 * `npm run tenant:import -- --file FILE [--isolation TIER] [--region NAME] [--json]`
 *
 * Exports a tenant to an archive, or creates a tenant from one (see
 * src/lifecycle/tenant-archive.ts), on the gateway the environment names (DATABASE_URL,
 * DATABASE_SERVERS, ENCRYPTION_KEY, REDIS_URL, STORAGE_DIR, EXPORT_DIR). Unlike the GraphQL
 * mutations, the operator may name any file. Prints a summary, or the result as JSON.
 * Exit status: 0 done, 1 refused or failed, 2 bad usage or configuration.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { GatewayConfig } from "../config/index.js";
import { openInvalidationBus } from "../events/invalidation-bus.js";
import {
  messageOf,
  readCommandLine,
  readFlags,
  runIfEntry,
  UsageError,
  type ScriptOutput,
} from "./script-io.js";
import { GatewayError } from "../errors/index.js";
import { Isolation } from "../generated/prisma/enums.js";
import { exportTenant, type TenantExport } from "../lifecycle/export-tenant.js";
import { importTenant, type ImportOutcome } from "../lifecycle/import-tenant.js";
import type { LifecycleServices } from "../lifecycle/lifecycle-services.js";
import { openLifecycleServices } from "../lifecycle/open-lifecycle.js";
import { createLogger } from "../logging/index.js";
import { isTenantId } from "../tenancy/index.js";

const USAGE = [
  "Usage: npm run tenant:export -- --tenant ID [--out FILE] [--json]",
  "       npm run tenant:import -- --file FILE [--isolation TIER] [--region NAME] [--json]",
  "",
  "  --tenant     the tenant to export",
  "  --out        where to write the archive (default: a new file in EXPORT_DIR)",
  "  --file       the archive to import",
  "  --isolation  SHARED, SCHEMA or DATABASE (default SHARED)",
  "  --region     the tenant's region (default: the archive's); DATABASE picks a server there",
  "  --json       print the result as JSON",
  "",
  "Exit status: 0 done, 1 refused or failed, 2 bad usage or configuration. On the",
  "embedded database (no DATABASE_URL), stop the gateway first: PGlite's data directory",
  "takes one process at a time.",
  "",
].join("\n");

/** What to do, as the command line says it. */
export type ArchiveCommand =
  | { kind: "help" }
  | { kind: "export"; tenantId: string; out?: string; json: boolean }
  | { kind: "import"; file: string; isolation: Isolation; region?: string; json: boolean };

const usage = (problem: string) => new UsageError(`${problem}\n\n${USAGE}`);

/** Parses `export …` or `import …`; throws {@link UsageError} on anything else. */
export function parseArgs(argv: readonly string[]): ArchiveCommand {
  const parsed = readFlags(
    {
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        tenant: { type: "string" },
        out: { type: "string" },
        file: { type: "string" },
        isolation: { type: "string" },
        region: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    },
    USAGE,
  );
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw usage(`Unexpected argument "${rest[0]}".`);
  const json = values.json ?? false;

  switch (command) {
    case "export":
      if (values.file ?? values.isolation ?? values.region) {
        throw usage("--file, --isolation and --region belong to tenant:import.");
      }
      if (values.tenant === undefined || !isTenantId(values.tenant)) {
        throw usage("--tenant must name a tenant id.");
      }
      if (values.out?.trim() === "") throw usage("--out needs a file name.");
      return { kind: "export", tenantId: values.tenant, out: values.out, json };
    case "import": {
      if (values.tenant ?? values.out) throw usage("--tenant and --out belong to tenant:export.");
      if (values.file === undefined || values.file.trim() === "") {
        throw usage("--file must name an archive.");
      }
      const isolation = values.isolation?.toUpperCase() ?? Isolation.SHARED;
      if (!Object.values<string>(Isolation).includes(isolation)) {
        throw usage(`--isolation must be SHARED, SCHEMA or DATABASE, got "${values.isolation}".`);
      }
      return {
        kind: "import",
        file: values.file,
        isolation: isolation as Isolation,
        region: values.region,
        json,
      };
    }
    default:
      throw usage(`Name a command, export or import${command ? `, not "${command}"` : ""}.`);
  }
}

/**
 * Runs the script on `argv` and `env` and answers its exit status, without touching the
 * process, so tests can call it directly.
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: ScriptOutput,
): Promise<number> {
  const commandLine = readCommandLine(argv, env, out, parseArgs);
  if (!commandLine) return 2;
  const { args: command, config } = commandLine;
  if (command.kind === "help") {
    out.stdout(USAGE);
    return 0;
  }
  if (command.kind === "import" && !(await isFile(command.file))) {
    out.stderr(`There is no archive file "${command.file}".\n`);
    return 1;
  }

  const logger = createLogger({
    level: "warn",
    destination: { write: (line: string) => out.stderr(line) },
  });
  let services: LifecycleServices;
  try {
    services = await openLifecycleServices(config, logger);
  } catch (error) {
    out.stderr(`Could not open the gateway's database or cache: ${messageOf(error)}\n`);
    return 1;
  }

  try {
    if (command.kind === "export") {
      const result = await exportTenant(services, command.tenantId, "cli:tenant-archive", {
        target: command.out === undefined ? undefined : resolve(command.out),
      });
      out.stdout(command.json ? `${JSON.stringify(result, null, 2)}\n` : describeExport(result));
    } else {
      const outcome = await importTenant(
        services,
        {
          path: resolve(command.file),
          name: command.file,
          isolation: command.isolation,
          region: command.region,
        },
        "cli:tenant-archive",
      );
      await tellGateways(config, services, outcome.tenantId);
      out.stdout(command.json ? `${JSON.stringify(outcome, null, 2)}\n` : describeImport(outcome));
    }

    return 0;
  } catch (error) {
    const reason = error instanceof GatewayError ? error.message : `failed: ${messageOf(error)}`;
    out.stderr(`The ${command.kind} stopped. ${reason}\n`);
    return 1;
  } finally {
    await services.cache.close();
    await services.database.close();
  }
}

/**
 * Running gateways may remember the tenant as unknown: tell them it exists
 * now, through the same bus their own changes use.
 */
async function tellGateways(
  config: GatewayConfig,
  services: LifecycleServices,
  tenantId: string,
): Promise<void> {
  const bus = openInvalidationBus({
    redisUrl: config.redisUrl,
    deploymentId: services.database.deploymentId,
    logger: services.logger,
  });
  try {
    await bus.publish({ kind: "tenant", tenantId });
  } finally {
    await bus.close();
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

function describeExport(result: TenantExport): string {
  const rows = result.tables.reduce((sum, t) => sum + t.rows, 0);
  const lines = [
    `exported ${result.tenantId} to ${result.path}`,
    `  ${result.bytes} bytes, sha256 ${result.sha256}`,
    `  ${rows} rows at migration ${result.schemaVersion}, taken ${result.exportedAt}`,
    ...result.tables.map(
      (t) => `  ${t.table.padEnd(16)} ${String(t.rows).padStart(8)}  ${t.checksum}`,
    ),
  ];

  return `${lines.join("\n")}\n`;
}

function describeImport(outcome: ImportOutcome): string {
  const rows = outcome.tables.reduce((sum, t) => sum + t.rows, 0);

  return `imported ${outcome.tenantId} into ${outcome.location} (${outcome.status}): ${rows} rows verified\n`;
}

await runIfEntry(import.meta.url, main);
