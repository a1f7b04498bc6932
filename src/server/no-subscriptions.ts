import { GraphQLError, type ASTVisitor, type ValidationContext } from "graphql";

/**
 * Refuses subscription operations while validating. The schema has no
 * subscription type, yet graphql-js validates `subscription { __typename }`
 * and only fails when executing it, as an internal error: a caller without
 * a token could then make any tenant look like it is failing.
 */
export function noSubscriptionsRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      if (operation.operation !== "subscription") return;
      context.reportError(
        new GraphQLError("This gateway serves queries and mutations; it has no subscriptions.", {
          nodes: [operation],
        }),
      );
    },
  };
}
