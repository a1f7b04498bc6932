import { createLogger, type Logger } from "../../src/logging/index.js";

/** One parsed line of the captured standard output. */
export interface CapturedLine {
  level: number;
  msg?: string;
  requestId?: string;
  tenantId?: string;
  [field: string]: unknown;
}

/**
 * A real logger (createLogger: redaction, request ids, tenant routing)
 * whose standard output stays in memory: `raw` as written, `lines` parsed.
 */
export function captureLines(level = "debug"): {
  logger: Logger;
  raw: string[];
  lines: () => CapturedLine[];
} {
  const raw: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => raw.push(line) } });

  return {
    logger,
    raw,
    lines: () => raw.map((line) => JSON.parse(line) as CapturedLine),
  };
}
