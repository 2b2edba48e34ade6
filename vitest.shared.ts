import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

const source = (pkg: string, entry = "index") =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url))

// Tests run against the packages' TypeScript sources, so `npm test` never depends on a stale build.
export const project = (name: string, options: { readonly timeoutMs?: number; readonly globalSetup?: string } = {}) =>
  defineProject({
    resolve: {
      alias: [
        { find: /^@workflows\/domain$/, replacement: source("domain") },
        { find: /^@workflows\/domain\/constants$/, replacement: source("domain", "Constants") },
        { find: /^@workflows\/http$/, replacement: source("http") },
        { find: /^@workflows\/http\/(client|storage|server)$/, replacement: source("http", "$1") }
      ]
    },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      testTimeout: options.timeoutMs ?? 15_000,
      hookTimeout: 60_000,
      ...(options.globalSetup === undefined ? {} : { globalSetup: [options.globalSetup] })
    }
  })
