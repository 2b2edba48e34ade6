// Bundles the CLI (and so the server) into a few ES modules with esbuild, after `tsc -b`.
// Why: loading Effect and the platform packages file by file costs over a second at every
// start; one bundle parses in a fraction of that. Code splitting keeps the server
// stack out of commands that never serve. Native and optional modules stay external.
import { build } from "esbuild"
import { rmSync } from "node:fs"

const outdir = "packages/cli/dist/bundle"
rmSync(outdir, { recursive: true, force: true })

await build({
  entryPoints: { workflows: "packages/cli/dist/bin.js" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  // better-sqlite3 loads a native addon; pg optionally requires pg-native; the others are optional accelerators.
  external: [
    "better-sqlite3",
    "pg",
    "pg-native",
    "@parcel/watcher",
    "msgpackr-extract",
    "bufferutil",
    "utf-8-validate"
  ],
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: {
    js:
      "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  },
  minify: true,
  sourcemap: true,
  logLevel: "warning"
})
