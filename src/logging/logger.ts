import { pino, type Logger as PinoLogger, type DestinationStream } from "pino";

/** The logger every module receives; a pino logger or a child of one. */
export type Logger = PinoLogger;

/** Paths that never reach a log line, wherever they appear. */
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

/** Creates the root JSON logger; requests get children bound to their ids. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "newfinity-gateway" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    options.destination,
  );
}
