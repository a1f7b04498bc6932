import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The request a log line is written for, kept for the whole of its async
 * work, so that a line written by a module that holds no request logger
 * (the cache, storage, a rate limiter) still names its request.
 *
 * Only the request id travels this way. A line's tenant comes from its
 * logger's own binding (`child({ tenantId })`) and nothing else: work a
 * request merely set off (a batch flush, a reconnect) may write about
 * other tenants, and must never be stamped as the request's tenant.
 */
export interface LogContext {
  /** Set as soon as the request's id is known. */
  requestId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `work` with a fresh log context, which the request fills in as it learns. */
export function runWithLogContext<T>(work: () => T): T {
  return storage.run({}, work);
}

/** The log context of the work under way, if it runs for a request. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/** Records the request id in the current log context (no-op outside one). */
export function setLogRequestId(requestId: string): void {
  const context = storage.getStore();
  if (context) context.requestId = requestId;
}

/** Express middleware: what follows runs in a log context of its own. */
export function logContextMiddleware(_req: unknown, _res: unknown, next: () => void): void {
  runWithLogContext(next);
}

/**
 * Runs `work` outside any log context: timers and queues a request merely
 * starts (a flush of log files) must not stamp their own lines with it.
 */
export function outsideLogContext<T>(work: () => T): T {
  return storage.exit(work);
}
