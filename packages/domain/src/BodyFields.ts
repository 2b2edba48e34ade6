import type { FieldError } from "./Errors.js"

/** A decoded JSON object, as it arrives from a client or a library caller. */
export type JsonObject = { readonly [field: string]: unknown }

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The body's own fields. `Object.keys` sees only own properties, so a `__proto__` or
 * `constructor` key arriving from JSON is treated like any other unknown name and never
 * reaches an object's prototype. A field set to `undefined` (possible only from code, not JSON)
 * counts as absent.
 */
export const presentFields = (body: JsonObject): ReadonlyArray<string> =>
  Object.keys(body).filter((key) => body[key] !== undefined)

export const readField = (body: JsonObject, field: string): unknown =>
  Object.prototype.hasOwnProperty.call(body, field) ? body[field] : undefined

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

export const notAnObject: FieldError = { field: null, message: "the body must be a JSON object" }
