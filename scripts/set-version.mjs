// `npm run release:version -- X.Y.Z`: the three packages move together (see "Versioning" in the
// README). Sets every package's version and the exact internal pins, turns the changelog's
// "Unreleased" section into "X.Y.Z — date", and updates the lock file.
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"

const version = process.argv[2]
if (version === undefined || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  console.error("usage: npm run release:version -- X.Y.Z")
  process.exit(2)
}

const internal = ["@workflows/domain", "@workflows/http", "@workflows/cli"]
for (const pkg of ["domain", "http", "cli"]) {
  const file = `packages/${pkg}/package.json`
  const manifest = JSON.parse(readFileSync(file, "utf8"))
  manifest.version = version
  for (const field of ["dependencies", "devDependencies", "peerDependencies"]) {
    for (const name of internal) if (manifest[field]?.[name] !== undefined) manifest[field][name] = version
  }
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
}

const changelog = readFileSync("CHANGELOG.md", "utf8")
const unreleased = /^## Unreleased\n/m
if (!unreleased.test(changelog)) {
  console.error("CHANGELOG.md has no '## Unreleased' section: write what changed first")
  process.exit(1)
}
const today = new Date().toISOString().slice(0, 10)
writeFileSync("CHANGELOG.md", changelog.replace(unreleased, `## Unreleased\n\n## ${version} — ${today}\n`))

execFileSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund"], { stdio: "inherit" })
console.log(`packages at ${version}; review CHANGELOG.md, commit, then tag v${version}`)
