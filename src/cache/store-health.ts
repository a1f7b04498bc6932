import type { Logger } from "../logging/index.js";

/**
 * After a failed call, calls skip the store for this long (ms) before one of them probes
 * it again, so that while a store hangs only one call per pause waits out the timeout.
 */
export const RETRY_AFTER_MS = 1_000;

/** What the log says about the store; the defaults speak of the cache. */
export interface HealthMessages {
  /** Warned once when the store goes away. */
  readonly down: string;
  /** Said once when it answers again after an outage. */
  readonly back: string;
  /** Said (at debug) when it first answers. */
  readonly connected: string;
}

const CACHE_MESSAGES: HealthMessages = {
  down: "Cache store unavailable; cache calls count as misses until it answers again",
  back: "Cache store answers again; using it",
  connected: "Cache store connected",
};

/**
 * A circuit breaker around the store that also keeps the log quiet: one warning when
 * the store goes away, one line when it is back, however many calls fail in between.
 *
 * While up every call may go through. While down, calls are skipped until
 * `RETRY_AFTER_MS` after the last failure; then a single call probes the store, and its
 * success closes the breaker. A Redis connection that comes back closes it as well.
 */
export class StoreHealth {
  #up: boolean;
  #outageLogged = false;
  #retryAt = 0;
  #probing = false;
  #closed = false;
  readonly #logger: Logger;
  readonly #messages: HealthMessages;

  /**
   * @param up whether the store counts as working before its first answer
   * @param messages what the log says (default: the cache's wording)
   */
  constructor(logger: Logger, up: boolean, messages: HealthMessages = CACHE_MESSAGES) {
    this.#logger = logger;
    this.#up = up;
    this.#messages = messages;
  }

  /** Whether the last word from the store was good. */
  get up(): boolean {
    return this.#up;
  }

  /** The cache closed: what its connection does from now on is no news to log. */
  close(): void {
    this.#closed = true;
    this.#up = false;
  }

  /** Whether a call may go to the store now; a `true` while down makes it the probe. */
  admit(now = Date.now()): boolean {
    if (this.#up) return true;
    if (this.#probing || now < this.#retryAt) return false;

    this.#probing = true;
    return true;
  }

  /** The store answered. */
  succeeded(): void {
    this.#probing = false;
    if (this.#up || this.#closed) return;

    this.#up = true;
    this.#retryAt = 0;
    if (this.#outageLogged) {
      this.#logger.info(this.#messages.back);
    } else {
      this.#logger.debug(this.#messages.connected);
    }
    this.#outageLogged = false;
  }

  /** The store failed, did not answer in time, or dropped its connection. */
  failed(error: unknown, now = Date.now()): void {
    this.#probing = false;
    this.#up = false;
    this.#retryAt = now + RETRY_AFTER_MS;
    if (this.#outageLogged || this.#closed) return;

    this.#outageLogged = true;
    this.#logger.warn({ err: error }, this.#messages.down);
  }
}
