/**
 * `npm run migrate -- [--tenant ID | --channel NAME] [--concurrency N] [--json]`
 *
 * Brings the control plane and then every tenant (or one tenant, or one release channel) to the
 * latest migration, printing one line per tenant as it finishes, or the whole report as JSON.
 * Exit status: 0 when every tenant is upgraded, 1 when any failed, 2 on bad usage or config.
 * Reads the gateway's environment (DATABASE_URL, DATABASE_SERVERS, ENCRYPTION_KEY, DATA_DIR).
 */
import {
  messageOf,
  readCommandLine,
  readFlags,
  runIfEntry,
  UsageError,
  wholeNumberFlag,
  type ScriptOutput,
} from "./script-io.js";
import { openDatabase } from "../data/index.js";
import { GatewayError } from "../errors/index.js";
import {
  DEFAULT_UPGRADE_CONCURRENCY,
  upgradeTenants,
  type TenantUpgrade,
  type UpgradeReport,
} from "../lifecycle/upgrade-tenants.js";
import { databaseOptionsFrom } from "../lifecycle/open-lifecycle.js";
import { createLogger, type Logger } from "../logging/index.js";
import { isTenantId } from "../tenancy/index.js";

const USAGE = [
  "Usage: npm run migrate -- [--tenant ID | --channel NAME] [--concurrency N] [--json]",
  "",
  "  --tenant       upgrade only this tenant",
  "  --channel      upgrade only the tenants of this release channel",
  `  --concurrency  locations migrated at once, 1 to 64 (default ${DEFAULT_UPGRADE_CONCURRENCY})`,
  "  --json         print the whole report as JSON instead of one line per tenant",
  "",
  "The control plane is always migrated first. Exit status: 0 all upgraded, 1 a tenant",
  "failed, 2 bad usage or configuration. On the embedded database (no DATABASE_URL),",
  "stop the gateway first: PGlite's data directory takes one process at a time.",
  "",
].join("\n");

/** The parsed command line. */
export interface MigrateArgs {
  tenantId?: string;
  channel?: string;
  concurrency: number;
  json: boolean;
  help: boolean;
}

/** Parses the arguments after the script name; throws {@link UsageError} on anything else. */
export function parseArgs(argv: readonly string[]): MigrateArgs {
  const { values } = readFlags(
    {
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        tenant: { type: "string" },
        channel: { type: "string" },
        concurrency: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    },
    USAGE,
  );

  const { tenant, channel } = values;
  if (tenant !== undefined && !isTenantId(tenant)) {
    throw new UsageError(`--tenant "${tenant}" is not a tenant id.\n\n${USAGE}`);
  }
  if (channel !== undefined && channel.trim() === "") {
    throw new UsageError(`--channel needs a channel name.\n\n${USAGE}`);
  }
  if (tenant !== undefined && channel !== undefined) {
    throw new UsageError(`Give --tenant or --channel, not both.\n\n${USAGE}`);
  }
  const concurrency = wholeNumberFlag(
    "--concurrency",
    values.concurrency,
    DEFAULT_UPGRADE_CONCURRENCY,
    64,
    USAGE,
  );

  return {
    ...(tenant === undefined ? {} : { tenantId: tenant }),
    ...(channel === undefined ? {} : { channel }),
    concurrency,
    json: values.json ?? false,
    help: values.help ?? false,
  };
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
  const { args: args, config } = commandLine;
  if (args.help) {
    out.stdout(USAGE);
    return 0;
  }

  const appliedAtOpen: string[] = [];
  let database;
  try {
    const logger = scriptLogger(out, appliedAtOpen);
    database = await openDatabase(databaseOptionsFrom(config, logger, { poolMax: 2 }));
  } catch (error) {
    out.stderr(`Could not open the database: ${messageOf(error)}\n`);
    return 1;
  }

  try {
    const report = await upgradeTenants(database, {
      tenantId: args.tenantId,
      channel: args.channel,
      concurrency: args.concurrency,
      onReport: args.json ? undefined : (upgrade) => out.stdout(`${describeUpgrade(upgrade)}\n`),
    });
    // Opening the database already brought the control plane up to date.
    const applied = [...appliedAtOpen, ...report.controlPlane.applied];
    const whole = { ...report, controlPlane: { ...report.controlPlane, applied } };
    out.stdout(args.json ? `${JSON.stringify(whole, null, 2)}\n` : summarize(whole));

    return report.failed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof GatewayError && error.code === "TENANT_NOT_FOUND") {
      out.stderr(`${error.message}\n`);
      return 2;
    }
    out.stderr(`The upgrade stopped: ${messageOf(error)}\n`);
    return 1;
  } finally {
    await database.close();
  }
}

/** pino's number for `warn`: entries from here up reach standard error. */
const WARN = 40;

/**
 * The database's logger. Opening the database migrates the control plane and logs each
 * migration it applies: those entries are collected for the report, since nothing is left
 * for the upgrade to apply there afterwards. Warnings and errors go to standard error, so
 * standard output carries only the report.
 */
function scriptLogger(out: ScriptOutput, appliedAtOpen: string[]): Logger {
  return createLogger({
    level: "info",
    destination: {
      write(line: string) {
        const entry = JSON.parse(line) as { level?: number; migration?: unknown };
        if (typeof entry.migration === "string") appliedAtOpen.push(entry.migration);
        if ((entry.level ?? 0) >= WARN) out.stderr(line);
      },
    },
  });
}

function describeUpgrade(upgrade: TenantUpgrade): string {
  const where = `${upgrade.tenantId} (${upgrade.isolation}, ${upgrade.location})`;
  const version = upgrade.version ?? "no version";
  if (!upgrade.ok) return `FAIL  ${where}, still at ${version}: ${upgrade.error ?? "failed"}`;
  if (upgrade.applied.length === 0) return `ok    ${where}: at ${version}, nothing to apply`;

  return `ok    ${where}: applied ${upgrade.applied.join(", ")}; at ${version}`;
}

function summarize(report: UpgradeReport): string {
  const { controlPlane, tenants, skipped, failed } = report;
  const control =
    controlPlane.applied.length === 0
      ? "nothing to apply"
      : `applied ${controlPlane.applied.join(", ")}`;
  const lines = [
    ...skipped.map((s) => `skip  ${s.tenantId}: ${s.reason}`),
    `control plane: ${control}; at ${controlPlane.version ?? "no version"}`,
    `${plural(tenants.length, "tenant")}: ${tenants.length - failed} ok, ${failed} failed, ` +
      `${skipped.length} skipped, in ${(report.durationMs / 1000).toFixed(1)} s`,
  ];

  return `${lines.join("\n")}\n`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

await runIfEntry(import.meta.url, main);
