/**
 * `npm run keys:rotate -- [--dry-run] [--batch-size N] [--concurrency N] [--json]`
 *
 * Rewraps every tenant data key with the current master key (ENCRYPTION_KEY), unwrapping
 * with the keys in ENCRYPTION_KEY_PREVIOUS, and reseals connection strings still sealed with
 * a master key. Safe to run again and while gateways serve. Exit status: 0 when every key is
 * current, 1 when any tenant failed, 2 on bad usage or config.
 */
import {
  messageOf,
  readCommandLine,
  readFlags,
  runIfEntry,
  wholeNumberFlag,
  type ScriptOutput,
} from "./script-io.js";
import { rotateTenantKeys, type RotationFailure, type RotationReport } from "../crypto/index.js";
import { openDatabase } from "../data/index.js";
import { databaseOptionsFrom, masterKeysFrom } from "../lifecycle/open-lifecycle.js";
import { createLogger, type Logger } from "../logging/index.js";

const USAGE = [
  "Usage: npm run keys:rotate -- [--dry-run] [--batch-size N] [--concurrency N] [--json]",
  "",
  "  --dry-run      check that every key unwraps and every old value opens; write nothing",
  "  --batch-size   rows read per query, 1 to 10000 (default 200)",
  "  --concurrency  rows worked on at once, 1 to 32 (default 4)",
  "  --json         print the report as JSON",
  "",
  "Run it after every gateway runs with the new ENCRYPTION_KEY and the old key in",
  "ENCRYPTION_KEY_PREVIOUS; drop the old key once it reports nothing failed.",
  "Exit status: 0 every key current, 1 a tenant failed, 2 bad usage or configuration.",
  "",
].join("\n");

/** The parsed command line. */
export interface RotateArgs {
  dryRun: boolean;
  batchSize: number;
  concurrency: number;
  json: boolean;
  help: boolean;
}

/** Parses the arguments after the script name; throws a UsageError on anything else. */
export function parseArgs(argv: readonly string[]): RotateArgs {
  const { values } = readFlags(
    {
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        "dry-run": { type: "boolean" },
        "batch-size": { type: "string" },
        concurrency: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    },
    USAGE,
  );

  return {
    dryRun: values["dry-run"] ?? false,
    batchSize: wholeNumberFlag("--batch-size", values["batch-size"], 200, 10_000, USAGE),
    concurrency: wholeNumberFlag("--concurrency", values.concurrency, 4, 32, USAGE),
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

  let database;
  try {
    // Each worker needs a control connection; the control pool gets a quarter of poolMax.
    const poolMax = 4 * args.concurrency;
    database = await openDatabase(databaseOptionsFrom(config, scriptLogger(out), { poolMax }));
  } catch (error) {
    out.stderr(`Could not open the database: ${messageOf(error)}\n`);
    return 1;
  }

  try {
    const report = await rotateTenantKeys(database.control, masterKeysFrom(config), {
      dryRun: args.dryRun,
      batchSize: args.batchSize,
      concurrency: args.concurrency,
    });
    out.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : summarize(report));

    return report.keys.failed.length + report.databaseSecrets.failed.length > 0 ? 1 : 0;
  } catch (error) {
    out.stderr(`The rotation stopped: ${messageOf(error)}\n`);
    return 1;
  } finally {
    await database.close();
  }
}

/** pino's number for `warn`: entries from here up reach standard error. */
const WARN = 40;

/** Warnings and errors to standard error, so standard output carries only the report. */
function scriptLogger(out: ScriptOutput): Logger {
  return createLogger({
    level: "info",
    destination: {
      write(line: string) {
        const entry = JSON.parse(line) as { level?: number };
        if ((entry.level ?? 0) >= WARN) out.stderr(line);
      },
    },
  });
}

function summarize(report: RotationReport): string {
  const { keys, databaseSecrets } = report;
  const would = report.dryRun ? "would be " : "";
  const lines = [
    ...keys.failed.map((failure) => describeFailure("key   ", failure)),
    ...databaseSecrets.failed.map((failure) => describeFailure("secret", failure)),
    `${report.dryRun ? "dry run, nothing written. " : ""}master key ${report.masterKeyId}`,
    `tenant keys: ${keys.rewrapped} ${would}rewrapped, ${keys.alreadyCurrent} already current, ` +
      `${keys.failed.length} failed`,
    `connection strings sealed with a master key: ${databaseSecrets.converted} ${would}resealed, ` +
      `${databaseSecrets.failed.length} failed`,
    `in ${(report.durationMs / 1000).toFixed(1)} s`,
  ];

  return `${lines.join("\n")}\n`;
}

function describeFailure(what: string, failure: RotationFailure): string {
  return `FAIL  ${what} ${failure.tenantId}: ${failure.error}`;
}

await runIfEntry(import.meta.url, main);
