import { Option, Schema, SchemaAST } from "effect"

type Check = (u: unknown) => boolean

/** What `Schema.is` passes its parser; the filters read nothing else. */
const OPTIONS: SchemaAST.ParseOptions = { exact: true }

const isRecord = (u: unknown): u is { readonly [key: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const hasOwn = (u: object, key: PropertyKey) => Object.prototype.hasOwnProperty.call(u, key)

/** The same answer as `Schema.is` for this node, through `Schema.is` itself (the nodes not compiled below). */
const fallback = (ast: SchemaAST.AST): Check => {
  const is = Schema.is(Schema.make(ast))
  return (u) => is(u)
}

/** Nodes whose parse answers the input itself, so a refinement over them filters the input. */
const parsesToInput = (ast: SchemaAST.AST): boolean => {
  switch (ast._tag) {
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
    case "Literal":
      return true
    case "Refinement":
      return parsesToInput(ast.from)
    case "Union":
      return ast.types.every(parsesToInput)
    default:
      return false
  }
}

const compile = (ast: SchemaAST.AST): Check => {
  // Parse options set on a node (`onExcessProperty`, …) change its answer: `Schema.is` applies them.
  if (Option.isSome(SchemaAST.getParseOptionsAnnotation(ast))) return fallback(ast)
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Union": {
      const members = ast.types.map(compile)
      return (u) => {
        for (const member of members) if (member(u)) return true
        return false
      }
    }
    case "Refinement": {
      // A filter sees what its `from` parsed to, which is the input itself only for these nodes.
      if (!parsesToInput(ast.from)) return fallback(ast)
      const from = compile(ast.from)
      return (u) => from(u) && Option.isNone(ast.filter(u, OPTIONS, ast))
    }
    case "TypeLiteral": {
      const [index, ...more] = ast.indexSignatures
      // One index signature of string keys, or none; anything richer is left to `Schema.is`.
      if (more.length > 0 || (index !== undefined && index.parameter._tag !== "StringKeyword")) return fallback(ast)
      const properties = ast.propertySignatures.map((p) => ({
        name: p.name,
        optional: p.isOptional,
        is: compile(p.type)
      }))
      const value = index === undefined ? undefined : compile(index.type)
      return (u) => {
        if (!isRecord(u)) return false
        for (const property of properties) {
          if (hasOwn(u, property.name) ? !property.is(u[property.name as string]) : !property.optional) return false
        }
        if (value !== undefined) {
          for (const key of Object.keys(u)) if (!value(u[key])) return false
        }
        return true
      }
    }
    default:
      return fallback(ast)
  }
}

/**
 * `Schema.is(schema)`, compiled once into plain predicates: the same answer for every input,
 * without the parser's per-call allocations (an output object, an `Either` and closures for each
 * field). For the checks kept on every request (rows read back, rows written, responses). The
 * nodes it does not compile (declarations such as `DateTimeUtcFromSelf`, transformations, tuples)
 * are checked by `Schema.is` itself; a property test holds the two equal.
 */
export const guard = <A, I, R>(schema: Schema.Schema<A, I, R>): (u: unknown) => u is A => {
  const check = compile(SchemaAST.typeAST(schema.ast))
  return (u): u is A => check(u)
}
