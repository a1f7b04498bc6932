import { parseArgs as parseCommandLine, type ParseArgsConfig } from "node:util";
import { pathToFileURL } from "node:url";
import { ConfigError, loadConfig, type GatewayConfig } from "../config/index.js";

/** A command line a script refuses; its message ends with the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Where a script writes; the entry point passes the process's streams. */
export interface ScriptOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type ScriptMain = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: ScriptOutput,
) => Promise<number>;

/**
 * Runs `main` with the process's arguments, environment and streams when
 * `moduleUrl` is the file node was started with (not when a test imports it),
 * and sets the exit code it answers.
 */
export async function runIfEntry(moduleUrl: string, main: ScriptMain): Promise<void> {
  const entry = process.argv[1];
  if (entry === undefined || moduleUrl !== pathToFileURL(entry).href) return;

  process.exitCode = await main(process.argv.slice(2), process.env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

/**
 * Parses a script's command line with `parse` and loads the gateway
 * configuration from `env` (without the token and metrics settings
 * production asks a gateway for). A refused command line or setting is
 * written to standard error, and the answer is null: the script then exits
 * with 2.
 */
export function readCommandLine<A>(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: ScriptOutput,
  parse: (argv: readonly string[]) => A,
): { args: A; config: GatewayConfig } | null {
  try {
    // These tools open the database, never verify a token or serve /metrics.
    return {
      args: parse(argv),
      config: loadConfig(env, { verifiesTokens: false, servesMetrics: false }),
    };
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof ConfigError)) throw error;
    out.stderr(`${error.message}\n`);
    return null;
  }
}

/**
 * node:util's parseArgs, strict, with a refusal turned into a
 * {@link UsageError} that ends with the script's usage.
 */
export function readFlags<const T extends ParseArgsConfig>(
  config: T,
  usage: string,
): ReturnType<typeof parseCommandLine<T>> {
  try {
    return parseCommandLine(config);
  } catch (error) {
    throw new UsageError(`${messageOf(error)}\n\n${usage}`);
  }
}

/** A flag's whole number from 1 to `max`, or `fallback` when it is absent. */
export function wholeNumberFlag(
  flag: string,
  raw: string | undefined,
  fallback: number,
  max: number,
  usage: string,
): number {
  const value = Number(raw ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new UsageError(
      `${flag} must be a whole number from 1 to ${max}, got "${raw}".\n\n${usage}`,
    );
  }

  return value;
}
