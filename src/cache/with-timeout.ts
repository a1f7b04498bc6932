import { CacheTimeoutError } from "./cache-errors.js";

/**
 * Settles like `work`, or rejects with CacheTimeoutError after `timeoutMs`. The work itself
 * goes on: node-redis cannot withdraw a command once it is written, only its answer is
 * ignored. The race subscribes to `work`, so its late rejection is never unhandled.
 */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheTimeoutError(timeoutMs)), timeoutMs);
  });

  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
