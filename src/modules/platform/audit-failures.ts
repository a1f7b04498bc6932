import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { GatewayError } from "../../errors/index.js";
import { markErrorSubject } from "../../logging/index.js";

/**
 * Runs a platform action; when it fails, a `<action>.failed` row with the
 * error's code goes to the platform audit log before the error goes on, so
 * refused and broken attempts are on the record as well as successes.
 * `subject` is what the caller named (a tenant id or a file), kept as detail;
 * the error is marked as being about that tenant, so that its log line is
 * never filed under another tenant the request may name.
 */
export async function auditFailures<T>(
  ctx: GatewayContext,
  action: string,
  subject: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    markErrorSubject(error, subject.tenantId ?? null);
    const code = error instanceof GatewayError ? error.code : "INTERNAL_SERVER_ERROR";
    // What was named may be malformed or huge; it is only recorded, cut short.
    const named = Object.fromEntries(
      Object.entries(subject).map(([key, value]) => [key, value.slice(0, 200)]),
    );
    await recordPlatformAudit(ctx.platform.database.control, {
      actorId: actorOf(ctx.principal),
      action: `${action}.failed`,
      tenantId: null,
      detail: { requestId: ctx.requestId, ...named, code },
    }).catch((err: unknown) => ctx.logger.error({ err }, "platform audit write failed"));
    throw error;
  }
}
