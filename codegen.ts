import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * Types the GraphQL documents the tests send (`npm run codegen`).
 *
 * It reads the committed `schema.graphql`, never a running server, so it
 * runs offline. Each operation in `test/operations/*.graphql` becomes a
 * typed document node in `test/generated/graphql.ts`, named after the
 * operation (`query Me` → `MeDocument`, `MeQuery`, `MeQueryVariables`).
 * `test/schema/codegen.test.ts` fails when the generated files are stale.
 */
const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["test/operations/**/*.graphql"],
  // A glob that matches nothing is a broken config, not an empty result.
  ignoreNoDocuments: false,
  generates: {
    "test/generated/graphql.ts": {
      plugins: ["typescript", "typescript-operations", "typed-document-node"],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        // Only the types the documents use, not every type of the schema.
        onlyOperationTypes: true,
        // Every custom scalar must be mapped; JSON stays opaque.
        strictScalars: true,
        scalars: { JSON: "unknown", DateTimeISO: "string" },
      },
    },
  },
};

export default config;
