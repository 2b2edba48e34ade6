import { Data, DateTime, Either, Option, ParseResult, Schema } from "effect"
import {
  checkedAlongsideFields,
  decodeBody,
  type JsonObject,
  NOT_AN_OBJECT,
  optional,
  unknownField
} from "./BodyFields.js"
import {
  type FieldError,
  validationError,
  type WorkflowStatusConflict,
  type WorkflowValidationError
} from "./Errors.js"
import { statusConflict } from "./Lifecycle.js"
import { integerFrom, Workflow } from "./Workflow.js"
import type { Changes } from "./WorkflowEvent.js"
import { ORGANIZATION_ID_PATTERN, WORKFLOW_ID_PATTERN } from "./WorkflowId.js"
import { RequestStatus, sameStatus } from "./WorkflowStatus.js"
import { Description, DESCRIPTION_DOC, Title } from "./WorkflowText.js"

export const READ_ONLY_FIELDS = [
  "id",
  "organization_id",
  "created_at",
  "updated_at",
  "version",
  "node_count",
  "edge_count",
  "enrolled_leads"
] as const
export type ReadOnlyField = (typeof READ_ONLY_FIELDS)[number]

const EDITABLE_HINT = "editable fields are title (or its alias name) and description"

/** A status named in a request: never the legacy `running`, which gets a hint of its own. */
export const RequestedStatus = RequestStatus.annotations({
  message: (issue) => ({
    message: issue.actual === "running"
      ? "running is a legacy status and cannot be requested; use active"
      : `must be one of ${RequestStatus.literals.join(", ")}`,
    override: true
  })
})

const pattern = (regex: RegExp, message: string) =>
  Schema.String.annotations({ message: () => message }).pipe(
    Schema.pattern(regex, { message: () => message, description: message.replace(/^must be /, "") })
  )

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
const NOT_AN_INSTANT = "must be an ISO-8601 timestamp"

// Date parsing rolls impossible days over (Feb 30 → Mar 1); a real calendar day survives a round trip.
const isCalendarDay = (value: string): boolean => {
  const [year, month, day] = value.slice(0, 10).split("-").map(Number) as [number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

const EchoedTimestamp = Schema.transformOrFail(
  pattern(ISO_INSTANT, NOT_AN_INSTANT).pipe(
    Schema.filter(isCalendarDay, { message: () => NOT_AN_INSTANT, jsonSchema: { format: "date-time" } })
  ),
  Schema.Struct({ millis: Schema.DateTimeUtcFromSelf, finerThanMillis: Schema.Boolean }),
  {
    strict: true,
    decode: (value, _options, ast) =>
      Option.match(DateTime.make(value), {
        onNone: () => ParseResult.fail(new ParseResult.Type(ast, value, NOT_AN_INSTANT)),
        onSome: (dt) =>
          ParseResult.succeed({
            millis: DateTime.toUtc(dt),
            finerThanMillis: /[1-9]/.test(ISO_INSTANT.exec(value)?.[1] ?? "")
          })
      }),
    encode: ({ millis }) => ParseResult.succeed(DateTime.formatIso(millis))
  }
)

const echoed = <A, I>(schema: Schema.Schema<A, I>) =>
  optional(schema).annotations({
    description: "Read-only: accepted when equal to the stored value (GET → edit → PATCH)."
  })

/**
 * The body of `PATCH /v1/workflows/{id}`, checked on its own (docs/CONTRACT.md §2, step 3 of the evaluation
 * order): editable fields, an echoed status, and echoed read-only fields, type-checked here and
 * compared with the stored record by `applyPatch`.
 */
export const WorkflowPatch = Schema.Struct({
  title: optional(Title).annotations({
    description: "New display name, 1–200 characters after trimming, no control characters."
  }),
  name: optional(Title).annotations({ description: "Alias of `title`." }),
  description: optional(Description).annotations({ description: DESCRIPTION_DOC }),
  status: optional(RequestedStatus).annotations({
    description: "Accepted only when equal to the current status; change it through the lifecycle routes."
  }),
  id: echoed(pattern(WORKFLOW_ID_PATTERN, "must be a workflow id (wfl_ followed by letters and digits)")),
  organization_id: echoed(
    pattern(ORGANIZATION_ID_PATTERN, "must be an organization id (org_ followed by letters, digits or _)")
  ),
  created_at: echoed(EchoedTimestamp),
  updated_at: echoed(EchoedTimestamp),
  version: echoed(integerFrom(1)),
  node_count: echoed(integerFrom(0)),
  edge_count: echoed(integerFrom(0)),
  enrolled_leads: echoed(integerFrom(0))
}).annotations({ message: () => NOT_AN_OBJECT }).pipe(
  Schema.filter((patch) => Object.keys(patch).length > 0, {
    ...checkedAlongsideFields,
    message: () => `the body has no fields; ${EDITABLE_HINT}`,
    jsonSchema: { minProperties: 1 }
  })
).annotations({
  identifier: "WorkflowPatch",
  description: "Fields to change. Read-only fields may be echoed back unchanged; any other field is rejected.",
  examples: [{ title: "30-Day Lead Nurture v2", description: "Calls cold leads three times, a week apart." }]
})

/** A PATCH body that passed every rule that does not need the stored record. */
export type WorkflowPatch = typeof WorkflowPatch.Type
/** What a caller sends: a misspelt field or a wrong type does not compile. */
export type WorkflowPatchInput = typeof WorkflowPatch.Encoded

/** Decodes a PATCH body, reporting every problem at once. Never throws, whatever the input. */
export const decodePatch: (body: unknown) => Either.Either<WorkflowPatch, WorkflowValidationError> = decodeBody(
  WorkflowPatch,
  (field) => unknownField(field, EDITABLE_HINT)
)

export type PatchOutcome = Data.TaggedEnum<{
  /** Every value equals the stored one: nothing is written, no event. */
  Unchanged: { readonly workflow: Workflow }
  Changed: { readonly workflow: Workflow; readonly changes: Changes }
}>
export const PatchOutcome = Data.taggedEnum<PatchOutcome>()

const sameReadOnly = (current: Workflow, field: ReadOnlyField, value: WorkflowPatch[ReadOnlyField]): boolean => {
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
    message:
      "is an alias of title; title and name differ from each other and from the stored title, so the intended title is unclear"
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
    const value = patch[field]
    if (value !== undefined && !sameReadOnly(current, field, value)) {
      errors.push({
        field,
        message: "is read-only and differs from the stored value; send the value you read or leave it out"
      })
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
