import { Either, ParseResult, Schema } from "effect"
import { type FieldError, validationError, type WorkflowValidationError } from "./Errors.js"

/** A decoded JSON object, as it arrives from a client or a library caller. */
export type JsonObject = { readonly [field: string]: unknown }

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Fields that live elsewhere get a pointer to where they can be changed. */
const elsewhere: { readonly [field: string]: string } = {
  nodes: "cannot be changed here; use the workflow-nodes endpoints",
  edges: "cannot be changed here; use the workflow-edges endpoints",
  leads: "cannot be changed here; use the Add Lead and Remove Lead endpoints"
}

export const unknownField = (field: string, known: string): FieldError => ({
  field,
  message: Object.prototype.hasOwnProperty.call(elsewhere, field)
    ? elsewhere[field]!
    : `is not a known field; ${known}`
})

export const NOT_AN_OBJECT = "the body must be a JSON object"
export const notAnObject: FieldError = { field: null, message: NOT_AN_OBJECT }

/** What a body's schema says about a field it does not declare (a typo, or a field owned elsewhere). */
export type UnknownField = (field: string) => FieldError

// A field set to `undefined` (possible only from code, never from JSON) counts as absent.
// `Object.fromEntries` defines own properties, so a `__proto__` key stays a plain (unknown) field.
const withoutUndefined = (body: unknown): unknown =>
  isJsonObject(body) && Object.values(body).includes(undefined)
    ? Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined))
    : body

/**
 * The one adapter from a schema's `ParseError` to the service's `[{ field, message }]`: the field
 * is the first step of the issue's path (`null` for the body as a whole), the message the rule's own
 * annotation. Problems are listed in the order of the body's fields, each once.
 */
export const fromParseError = (
  error: ParseResult.ParseError,
  body: unknown,
  unknown: UnknownField
): WorkflowValidationError => {
  const errors: Array<FieldError> = []
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const first = issue.path[0]
    const found: FieldError = first === undefined
      ? { field: null, message: issue.message }
      : issue._tag === "Unexpected"
      ? unknown(String(first))
      : { field: String(first), message: issue.message }
    if (!errors.some((e) => e.field === found.field)) errors.push(found)
  }
  const order = isJsonObject(body) ? Object.keys(body) : []
  // The body as a whole first, then the body's fields in order, then fields it lacks (a missing title).
  const position = (
    e: FieldError
  ) => (e.field === null ? -1 : order.includes(e.field) ? order.indexOf(e.field) : order.length)
  errors.sort((a, b) => position(a) - position(b))
  return validationError(errors as [FieldError, ...Array<FieldError>])
}

/**
 * Decodes a request body with its schema, reporting every problem at once and naming each
 * field it does not declare. Never throws, whatever the input.
 */
export const decodeBody = <A, I>(schema: Schema.Schema<A, I>, unknown: UnknownField) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })
  return (body: unknown): Either.Either<A, WorkflowValidationError> => {
    const input = withoutUndefined(body)
    return Either.mapLeft(decode(input), (error) => fromParseError(error, input, unknown))
  }
}

/** Marks a whole-body rule to be checked even when some field failed, so every problem is reported at once. */
export const checkedAlongsideFields = { [Symbol.for("effect/annotation/StableFilter")]: true } as const

/** An optional field that is absent or has a value (never `undefined`). */
export const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })
