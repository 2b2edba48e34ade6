// Lint and format in one pass: typescript-eslint's recommended rules for correctness, and
// dprint (through @effect/eslint-plugin, as the Effect templates do) for layout. `npm run lint:fix` formats.
import * as effect from "@effect/eslint-plugin"
import js from "@eslint/js"
import globals from "globals"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.vitest-tmp/**", "data/**", "packages/cli/bin/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...effect.configs.dprint,
  {
    files: ["**/*.{ts,mjs}"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
    rules: {
      "no-fallthrough": "off",
      // A script may ignore a failure on purpose (cleanup of a browser that is already gone).
      "no-empty": ["error", { allowEmptyCatch: true }],
      "object-shorthand": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }]
    }
  },
  {
    // Tests read parsed JSON response bodies field by field; typing every body would restate the
    // API document in each test. Source code stays free of `any`.
    files: ["packages/*/test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" }
  }
)
