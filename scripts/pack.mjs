// `npm run pack`: a clean build of the three packages, then one tarball each in dist/tarballs/.
// Clean because tsc -b never deletes the output of a source file that was moved or removed, and
// a stale file would ship.
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, rmSync } from "node:fs"

const out = "dist/tarballs"
const npm = (...args) => execFileSync("npm", args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" })

for (const pkg of ["domain", "http", "cli"]) rmSync(`packages/${pkg}/dist`, { recursive: true, force: true })
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

npm("run", "build")
const packed = JSON.parse(npm("pack", "--workspaces", "--pack-destination", out, "--json"))
for (const { filename, entryCount, size } of packed) {
  console.log(`${out}/${filename}  ${entryCount} files, ${(size / 1024).toFixed(0)} KiB`)
}
if (readdirSync(out).length !== 3) {
  throw new Error(`expected three tarballs in ${out}, found ${readdirSync(out).join(", ")}`)
}
