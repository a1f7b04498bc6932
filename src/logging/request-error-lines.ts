import type { Logger } from "./logger.js";
import { redactSecrets } from "./redact-secrets.js";

/** Errors of one request that get a line of their own; the rest are counted. */
export const MAX_ERROR_LINES_PER_REQUEST = 10;

/** Characters of an error message a line keeps. */
export const MAX_LOGGED_MESSAGE_CHARS = 2_000;

/**
 * The error lines of one request, bounded. A client can make one request
 * fail hundreds of times (aliased fields, each with bad input), and each
 * failure would be a line in its tenant's log and on standard output: the
 * first {@link MAX_ERROR_LINES_PER_REQUEST} get a line each, and the rest
 * are counted by code in one summary line.
 */
export class RequestErrorLines {
  readonly #limit: number;
  #written = 0;
  #omitted = new Map<string, number>();

  constructor(limit = MAX_ERROR_LINES_PER_REQUEST) {
    this.#limit = limit;
  }

  /** Whether one more error of `code` may have a line of its own; counts it when not. */
  take(code: string): boolean {
    if (this.#written < this.#limit) {
      this.#written += 1;

      return true;
    }
    this.#omitted.set(code, (this.#omitted.get(code) ?? 0) + 1);

    return false;
  }

  /** Writes one line counting the errors that got none since the last call (if any). */
  summarize(logger: Logger): void {
    if (this.#omitted.size === 0) return;
    let omitted = 0;
    for (const count of this.#omitted.values()) omitted += count;

    logger.warn(
      { omitted, omittedCodes: Object.fromEntries(this.#omitted), logged: this.#written },
      "more errors in this request than are logged one by one",
    );
    this.#omitted = new Map();
  }
}

/**
 * An error message as a line keeps it: at most {@link MAX_LOGGED_MESSAGE_CHARS}
 * characters, so an echoed input cannot make a line of a megabyte. Secrets
 * are redacted before it is cut, so no cut can leave the start of a secret
 * that the whole would have been recognized by.
 */
export function loggedMessage(message: string, max = MAX_LOGGED_MESSAGE_CHARS): string {
  if (message.length <= max) return message;
  const redacted = JSON.parse(redactSecrets(JSON.stringify(message))) as string;
  if (redacted.length <= max) return redacted;

  return `${redacted.slice(0, max)}… (${redacted.length - max} more characters)`;
}
