import { Data, DateTime, Either, Option } from "effect"
import { type FieldError, validationError, type WorkflowStatusConflict, type WorkflowValidationError } from "./Errors.js"
import { isJsonObject, type JsonObject, notAnObject, presentFields, readField, unknownField } from "./BodyFields.js"
import { statusConflict } from "./Lifecycle.js"
import { Workflow } from "./Workflow.js"
import { isOrganizationId, isWorkflowId } from "./WorkflowId.js"
import type { Changes } from "./WorkflowEvent.js"
import { isRequestStatus, type RequestStatus, sameStatus } from "./WorkflowStatus.js"
import { decodeDescription, decodeTitle } from "./WorkflowText.js"

/**
 * Values of the record's read-only fields that a client echoed back (GET → edit → PATCH).
 * They are type-checked when the body is decoded and compared with the stored record later.
 */
export interface ReadOnlyValues {
  readonly id?: string
  readonly organization_id?: string
  readonly created_at?: EchoedInstant
  readonly updated_at?: EchoedInstant
  readonly version?: number
  readonly node_count?: number
  readonly edge_count?: number
  readonly enrolled_leads?: number
}

/** A PATCH body that passed every rule that does not need the stored record (docs/CONTRACT.md §2 step 3). */
export interface WorkflowPatch {
  readonly title?: string
  readonly name?: string
  readonly description?: string | null
  readonly status?: RequestStatus
  readonly readOnly: ReadOnlyValues
}

export const READ_ONLY_FIELDS = [
  "id",
  "organization_id",
  "created_at",
  "updated_at",
  "version",
  "node_count",
  "edge_count",
  "enrolled_leads"
] as const satisfies ReadonlyArray<keyof ReadOnlyValues>
type ReadOnlyField = (typeof READ_ONLY_FIELDS)[number]

const EDITABLE_HINT = "editable fields are title (or its alias name) and description"

/**
 * An echoed timestamp: the instant to the millisecond (the precision of stored timestamps), and
 * whether the client named a finer one (`…26.980001Z`), which therefore equals no stored value.
 */
export interface EchoedInstant {
  readonly millis: DateTime.Utc
  readonly finerThanMillis: boolean
}

// ISO-8601 date-time with an explicit offset: anything looser would make "the same instant" ambiguous.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3}(\d{0,6})|\.\d{1,2})?(?:Z|[+-]\d{2}:\d{2})$/

// Date parsing rolls impossible days over (Feb 30 → Mar 1); a real calendar day survives a round trip.
const isCalendarDay = (value: string): boolean => {
  const [year, month, day] = value.slice(0, 10).split("-").map(Number) as [number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

const decodeInstant = (value: unknown): Either.Either<EchoedInstant, string> => {
  const match = typeof value === "string" ? ISO_INSTANT.exec(value) : null
  if (match === null || !isCalendarDay(match[0])) return Either.left("must be an ISO-8601 timestamp")
  const finerThanMillis = /[1-9]/.test(match[1] ?? "")
  return Option.match(DateTime.make(match[0]), {
    onNone: () => Either.left("must be an ISO-8601 timestamp"),
    onSome: (dt) => Either.right({ millis: DateTime.toUtc(dt), finerThanMillis })
  })
}

const decodeId = (value: unknown): Either.Either<string, string> =>
  isWorkflowId(value) ? Either.right(value) : Either.left("must be a workflow id (wfl_ followed by letters and digits)")

const decodeOrganizationId = (value: unknown): Either.Either<string, string> =>
  isOrganizationId(value) ? Either.right(value) : Either.left("must be an organization id (org_ followed by letters, digits or _)")

const decodeInteger = (min: number) => (value: unknown): Either.Either<number, string> =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= min
    ? Either.right(value)
    : Either.left(`must be an integer of at least ${min}`)

const readOnlyDecoders: { readonly [F in ReadOnlyField]: (value: unknown) => Either.Either<ReadOnlyValues[F] & {}, string> } = {
  id: decodeId,
  organization_id: decodeOrganizationId,
  created_at: decodeInstant,
  updated_at: decodeInstant,
  version: decodeInteger(1),
  node_count: decodeInteger(0),
  edge_count: decodeInteger(0),
  enrolled_leads: decodeInteger(0)
}

const decodeStatus = (value: unknown): Either.Either<RequestStatus, string> => {
  if (value === "running") return Either.left("running is a legacy status and cannot be requested; use active")
  if (isRequestStatus(value)) return Either.right(value)
  return Either.left("must be one of draft, active, paused, completed, cancelled")
}

const isReadOnlyField = (field: string): field is ReadOnlyField => (READ_ONLY_FIELDS as ReadonlyArray<string>).includes(field)

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * docs/CONTRACT.md §2 step 3: decode a PATCH body on its own, reporting every problem at once.
 * Never throws, whatever the input.
 */
export const decodePatch = (body: unknown): Either.Either<WorkflowPatch, WorkflowValidationError> => {
  if (!isJsonObject(body)) return Either.left(validationError([notAnObject]))
  const fields = presentFields(body)
  if (fields.length === 0) {
    return Either.left(validationError([{ field: null, message: `the body has no fields; ${EDITABLE_HINT}` }]))
  }
  const errors: Array<FieldError> = []
  const patch: Mutable<Omit<WorkflowPatch, "readOnly">> = {}
  const readOnly: Mutable<ReadOnlyValues> = {}
  const take = <A>(field: string, decoded: Either.Either<A, string>, set: (a: A) => void) =>
    Either.match(decoded, { onLeft: (message) => errors.push({ field, message }), onRight: set })

  for (const field of fields) {
    const value = readField(body, field)
    switch (field) {
      case "title":
      case "name":
        take(field, decodeTitle(value), (title) => (patch[field] = title))
        break
      case "description":
        take(field, decodeDescription(value), (description) => (patch.description = description))
        break
      case "status":
        take(field, decodeStatus(value), (status) => (patch.status = status))
        break
      default:
        if (isReadOnlyField(field)) {
          take<ReadOnlyValues[ReadOnlyField]>(field, readOnlyDecoders[field](value), (v) => Object.assign(readOnly, { [field]: v }))
        } else {
          errors.push(unknownField(field, EDITABLE_HINT))
        }
    }
  }
  return errors.length > 0 ? Either.left(validationError(errors as [FieldError, ...Array<FieldError>])) : Either.right({ ...patch, readOnly })
}

export type PatchOutcome = Data.TaggedEnum<{
  /** Every value equals the stored one: nothing is written, no event. */
  Unchanged: { readonly workflow: Workflow }
  Changed: { readonly workflow: Workflow; readonly changes: Changes }
}>
export const PatchOutcome = Data.taggedEnum<PatchOutcome>()

const sameReadOnly = (current: Workflow, field: ReadOnlyField, value: ReadOnlyValues[ReadOnlyField]): boolean => {
  const stored = current[field]
  return DateTime.isDateTime(stored) && typeof value === "object"
    ? !value.finerThanMillis && DateTime.Equivalence(stored, value.millis)
    : stored === value
}

/**
 * `title` and `name` are one field under two names. When a client sends both, the one that
 * equals the stored title is an echo of what it read, and the other is the edit.
 */
const resolveTitle = (current: Workflow, patch: WorkflowPatch): Either.Either<string | undefined, FieldError> => {
  const { name, title } = patch
  if (title === undefined || name === undefined || title === name) return Either.right(title ?? name)
  if (title === current.title) return Either.right(name)
  if (name === current.title) return Either.right(title)
  return Either.left({
    field: "name",
    message: "is an alias of title; title and name differ from each other and from the stored title, so the intended title is unclear"
  })
}

/**
 * docs/CONTRACT.md §2 steps 6–8 against the stored record: a status conflict, the checks that need the
 * stored values, then a no-op or the new record (version + 1, `updated_at` = now) with its changes.
 */
export const applyPatch = (
  current: Workflow,
  patch: WorkflowPatch,
  now: DateTime.Utc
): Either.Either<PatchOutcome, WorkflowStatusConflict | WorkflowValidationError> => {
  if (patch.status !== undefined && !sameStatus(current.status, patch.status)) {
    return Either.left(statusConflict(current.status, patch.status))
  }
  const errors: Array<FieldError> = []
  for (const field of READ_ONLY_FIELDS) {
    const value = patch.readOnly[field]
    if (value !== undefined && !sameReadOnly(current, field, value)) {
      errors.push({ field, message: "is read-only and differs from the stored value; send the value you read or leave it out" })
    }
  }
  const title = resolveTitle(current, patch)
  if (Either.isLeft(title)) errors.push(title.left)
  if (patch.title === undefined && patch.name === undefined && patch.description === undefined) {
    errors.push({ field: null, message: `the body holds no editable field; ${EDITABLE_HINT}` })
  }
  if (errors.length > 0 || Either.isLeft(title)) {
    return Either.left(validationError(errors as [FieldError, ...Array<FieldError>]))
  }
  return Either.right(changeRecord(current, title.right, patch.description, now))
}

const changeRecord = (
  current: Workflow,
  title: string | undefined,
  description: string | null | undefined,
  now: DateTime.Utc
): PatchOutcome => {
  const changes: Record<string, { from: string | null; to: string | null }> = {}
  if (title !== undefined && title !== current.title) changes.title = { from: current.title, to: title }
  if (description !== undefined && description !== current.description) {
    changes.description = { from: current.description, to: description }
  }
  if (Object.keys(changes).length === 0) return PatchOutcome.Unchanged({ workflow: current })
  // Every value here passed decoding already; the record is validated again when it is encoded for storage.
  const workflow = new Workflow({
    ...current,
    title: title ?? current.title,
    description: description === undefined ? current.description : description,
    version: current.version + 1,
    updated_at: now
  }, true)
  return PatchOutcome.Changed({ workflow, changes })
}

export type { JsonObject }
