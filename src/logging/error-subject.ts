/**
 * Which tenant a failed platform operation acted on. A global admin may
 * name tenant A in the request (and so bind its logger to A) while moving
 * or removing tenant B: the error is about B, and logged under A it would
 * put B's data in A's log. The request's error logging asks here first.
 */
const subjects = new WeakMap<object, { tenantId: string | null }>();

/**
 * Records that `error` came from work on `tenantId`; null when the work
 * named no tenant id (an archive file), whose tenant is then unknown.
 */
export function markErrorSubject(error: unknown, tenantId: string | null): void {
  if (error && typeof error === "object") subjects.set(error, { tenantId });
}

/**
 * The tenant `error` came from work on: an id, null when unknown, or
 * undefined when the error was not marked (it is the request's own).
 */
export function errorSubjectOf(error: unknown): string | null | undefined {
  return error && typeof error === "object" ? subjects.get(error)?.tenantId : undefined;
}
