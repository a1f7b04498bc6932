import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Vite would load graphql's ESM build for our files while type-graphql,
    // graphql-shield and Apollo load the CommonJS one through Node: two
    // copies whose classes fail each other's instanceof checks. One copy.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Test files run in parallel processes; each makes its own database.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ["test/support/setup.ts"],
    globalSetup: ["test/support/global-setup.ts"],
  },
});
