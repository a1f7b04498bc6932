import type { ApolloServerPlugin } from "@apollo/server";
import type { GatewayContext } from "../context/gateway-context.js";
import { actorOf, recordPlatformAudit } from "./audit-log.js";

/**
 * Writes one platform audit row for every operation a global admin runs
 * inside a tenant, reads included: staff access to a tenant's data is
 * always on the record. The row is written before the operation runs, so
 * a request that fails to be audited does not run.
 */
export const staffAuditPlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, operation, operationName }) {
        const { principal, scope } = contextValue;
        if (!principal?.isGlobalAdmin || !scope || !operation) return;
        await recordPlatformAudit(contextValue.platform.database.control, {
          actorId: actorOf(principal),
          action: "tenant.access",
          tenantId: scope.tenant.id,
          detail: {
            requestId: contextValue.requestId,
            operation: operation.operation,
            operationName: operationName ?? null,
            fields: operation.selectionSet.selections.map((s) =>
              s.kind === "Field" ? s.name.value : s.kind,
            ),
          },
        });
      },
    };
  },
};
