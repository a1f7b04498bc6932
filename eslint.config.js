// @ts-check
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

/**
 * ESLint flat config: the recommended JavaScript and typescript-eslint rules
 * everywhere, and no `console` in the gateway's code (it logs through the
 * injected pino logger; scripts write to process.stdout).
 */
export default defineConfig(
  globalIgnores(["dist/", "coverage/", ".data/", "src/generated/", "test/generated/"]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `const { secret: _secret, ...rest } = value` drops a key on purpose;
      // a leading underscore marks any other binding that is unused by design.
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          ignoreRestSiblings: true,
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
        },
      ],
    },
  },
  {
    files: ["src/**/*.ts"],
    rules: {
      "no-console": "error",
    },
  },
);
