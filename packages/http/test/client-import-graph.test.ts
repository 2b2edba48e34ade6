import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { dirname, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

/**
 * `@workflows/http/client` is for services that only call a server: they install neither database
 * driver (both are optional peer dependencies) and load no server code. Walks every import of
 * its sources, type-only and dynamic ones included, from `src/client.ts` through `@workflows/domain`.
 */
const packages = fileURLToPath(new URL("../../", import.meta.url))
const entry = resolve(packages, "http/src/client.ts")
const workspace: Record<string, string> = { "@workflows/domain": resolve(packages, "domain/src/index.ts") }

/** Every module `file` names: imports and re-exports (type-only too), `import()` calls and `import("…")` types. */
const importsOf = (file: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments
      found.push(argument !== undefined && ts.isStringLiteral(argument) ? argument.text : "<computed import>")
    } else if (
      ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest))
  return found
}

const walk = (start: string) => {
  const files = new Set<string>()
  const packagesReached = new Set<string>()
  const pending = [start]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue
    files.add(file)
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith(".")) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")))
      else if (workspace[specifier] !== undefined) pending.push(workspace[specifier])
      else packagesReached.add(specifier)
    }
  }
  return { files: [...files].map((file) => relative(packages, file)).sort(), packages: [...packagesReached].sort() }
}

describe("the client entry point's import graph", () => {
  const graph = walk(entry)

  it("reaches the service interface, the HTTP contract, the client and the domain, nothing of storage or the server", () => {
    expect(graph.files).toContain("http/src/client/WorkflowsClient.ts")
    expect(graph.files).toContain("http/src/api/WorkflowsApi.ts")
    const outside = graph.files.filter(
      // The bulk update runs over any Workflows layer, this one included; it is pure code over the interface.
      (file) =>
        !/^http\/src\/(client\.ts|client\/|api\/|service\/(Workflows|BulkFile|BulkUpdate|TransientFailure)\.ts$)/.test(
          file
        ) &&
        !file.startsWith("domain/src/")
    )
    expect(outside).toEqual([])
  })

  it("imports only effect and @effect/platform: no database driver, no Node-only package", () => {
    expect(graph.packages.length).toBeGreaterThan(0)
    const others = graph.packages.filter((name) =>
      name !== "effect" && !name.startsWith("effect/") && !name.startsWith("@effect/platform/")
    )
    expect(others).toEqual([])
  })
})
