/** A store call that took longer than the cache's `timeoutMs`. */
export class CacheTimeoutError extends Error {
  override name = "CacheTimeoutError";

  constructor(timeoutMs: number) {
    super(`Cache store did not answer within ${timeoutMs} ms.`);
  }
}

/**
 * `clearTenant` could not finish because the store is down, failed, or did not answer
 * in time; `cause` holds the store's error, if there was one. Some keys may be gone.
 */
export class CacheUnavailableError extends Error {
  override name = "CacheUnavailableError";
}
