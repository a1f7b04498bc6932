import type { ApolloServerPlugin } from "@apollo/server";
import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import type { GatewayContext } from "../context/gateway-context.js";
import { actorOf, recordPlatformAudit } from "./audit-log.js";

/**
 * The root fields an operation reads, looking through fragments, so that a
 * fragment spread cannot hide what staff read.
 */
function rootFieldNames(set: SelectionSetNode, document: DocumentNode): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  const pending: SelectionSetNode[] = [set];
  for (let next = pending.pop(); next; next = pending.pop()) {
    for (const selection of next.selections) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) pending.push(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) pending.push(fragment.selectionSet);
      }
    }
  }

  return [...names].sort();
}

/**
 * Writes one platform audit row for every operation a global admin runs
 * inside a tenant, reads included: staff access to a tenant's data is
 * always on the record. The row is written before the operation runs, so
 * a request that fails to be audited does not run.
 */
export const staffAuditPlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, operation, operationName, document }) {
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
            fields: rootFieldNames(operation.selectionSet, document),
          },
        });
      },
    };
  },
};
