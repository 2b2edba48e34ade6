import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8")

/** The README's library example is this directory's readme-library-example.ts, which `tsc -b` compiles. */
describe("the README's library example", () => {
  it("is the file the type-checker compiles, character for character", () => {
    const readme = read("../../../README.md")
    const section = readme.slice(readme.indexOf("## Library use"))
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
    expect(block).toBeDefined()
    expect(block).toBe(read("./readme-library-example.ts"))
  })
})
