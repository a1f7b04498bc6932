import { pino, type Logger as PinoLogger, type DestinationStream } from "pino";
import { currentLogContext } from "./log-context.js";
import { boundIdsOf } from "./logger-bindings.js";
import { REDACTED, redactSecrets } from "./redact-secrets.js";
import { TenantLineRouter, type TenantLineSink } from "./tenant-line-router.js";

/** The logger every module receives; a pino logger or a child of one. */
export type Logger = PinoLogger;

/**
 * Paths that never reach a log line, wherever they appear. Values that
 * look secret are also replaced anywhere in a line (redact-secrets.ts).
 */
const REDACTED_PATHS = [
  "authorization",
  "headers.authorization",
  "req.headers.authorization",
  "token",
  "password",
  "secret",
  "connectionString",
  "databaseUrl",
  "*.token",
  "*.password",
  "*.secret",
  "*.connectionString",
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go (default: standard output). Tests pass a memory stream. */
  destination?: DestinationStream;
}

/**
 * Creates the root JSON logger; requests get children bound to their ids.
 *
 * Each line is stamped with the id of the request whose work writes it,
 * when its logger is not bound to one already (see log-context.ts), has
 * secret values replaced, and goes to the destination and, once one is
 * attached with {@link routeTenantLines}, to the sink of the tenant its
 * logger is bound to.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "newfinity-gateway" },
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      mixin: requestFields,
      hooks: { streamWrite: redactSecrets },
    },
    new TenantLineRouter(options.destination ?? standardOutput()),
  );
}

/**
 * Sends the lines `logger` (or any logger of its family) writes for a
 * tenant to `sink` as well; the answer stops that. Only loggers made by
 * {@link createLogger} can route.
 */
export function routeTenantLines(logger: Logger, sink: TenantLineSink): () => void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (!(stream instanceof TenantLineRouter)) {
    throw new TypeError("Only a logger made by createLogger can route tenant lines.");
  }

  return stream.attach(sink);
}

/** pino's mixin: the request id, for a line whose logger is not bound to one. */
function requestFields(_fields: object, _level: number, logger: Logger): object {
  const requestId = currentLogContext()?.requestId;
  if (!requestId || boundIdsOf(logger).requestId) return {};

  return { requestId };
}

/**
 * Standard output as pino picks it by itself: file descriptor 1, unless
 * something (a test runner) has taken over `process.stdout`.
 */
function standardOutput(): DestinationStream {
  const stdout = process.stdout;
  const replaced = stdout.write !== Object.getPrototypeOf(stdout).write;
  if (replaced) return stdout;

  return pino.destination({ dest: stdout.fd || 1, sync: false });
}
