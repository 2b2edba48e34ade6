import { defineConfig } from "vitest/config"

// Each package is its own project so `vitest run --project domain` works; the root config is only
// the list. Packages resolve each other's sources, not their builds (vitest.shared.ts).
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts"]
  }
})
