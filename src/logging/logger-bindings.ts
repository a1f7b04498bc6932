import { pino, type Logger } from "pino";

/** What a logger's own bindings (its `child(...)` fields) say about tenants and requests. */
export interface BoundIds {
  /** The one tenant id bound; null when none is; `mixed` when several differ. */
  readonly tenantId: string | null | "mixed";
  readonly requestId: boolean;
}

const TENANT_BINDING = /"tenantId":"((?:[^"\\]|\\.)*)"/g;
const REQUEST_BINDING = /"requestId":/;

const known = new WeakMap<object, BoundIds>();

/**
 * Reads a logger's bindings once and remembers the answer for as long as
 * the logger lives: every line asks, and a request's logger writes several.
 * A child bound to one tenant and then to another carries both in its line,
 * which is told apart as `mixed`.
 */
export function boundIdsOf(logger: Logger): BoundIds {
  const cached = known.get(logger);
  if (cached) return cached;

  const bindings = String(
    (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym],
  );
  const tenants = new Set([...bindings.matchAll(TENANT_BINDING)].map((match) => match[1]));
  const [only] = tenants;
  const ids: BoundIds = {
    tenantId: tenants.size > 1 ? "mixed" : (only ?? null),
    requestId: REQUEST_BINDING.test(bindings),
  };
  known.set(logger, ids);

  return ids;
}
