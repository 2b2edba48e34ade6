import { Either, Schema } from "effect"
import { decodeBody, optional } from "./BodyFields.js"
import { LIMIT_DEFAULT, LIMIT_MAX } from "./Constants.js"
import { validationError, type WorkflowValidationError } from "./Errors.js"
import { WorkflowStatus } from "./WorkflowStatus.js"

const LIMIT_MESSAGE = `must be an integer from 1 to ${LIMIT_MAX}`

/** A page size: a number from code, or its decimal digits from a URL. */
export const Limit = Schema.transform(
  Schema.Union(Schema.Number, Schema.String.pipe(Schema.pattern(/^\d{1,4}$/)))
    .annotations({ message: () => ({ message: LIMIT_MESSAGE, override: true }) })
    .pipe(Schema.filter((n) => Number.isInteger(Number(n)) && Number(n) >= 1 && Number(n) <= LIMIT_MAX, {
      message: () => LIMIT_MESSAGE,
      jsonSchema: { type: "integer", minimum: 1, maximum: LIMIT_MAX, default: LIMIT_DEFAULT }
    })),
  Schema.Number,
  { strict: true, decode: Number, encode: (n) => n }
).annotations({ description: `1–${LIMIT_MAX}, default ${LIMIT_DEFAULT}.` })

export const StartingAfter = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_]{1,80}$/, { message: () => "must be the id of an item of the previous page" })
).annotations({
  message: () => "must be the id of an item of the previous page",
  description: "The id of the last item of the previous page."
})

export const StatusFilter = WorkflowStatus.annotations({
  message: () => ({ message: `must be one of ${WorkflowStatus.literals.join(", ")}`, override: true }),
  description: "`active` includes legacy `running`."
})

/** Query parameters of the workflow list. */
export const ListQuery = Schema.Struct({
  status: optional(StatusFilter),
  limit: optional(Limit),
  starting_after: optional(StartingAfter)
}).annotations({ identifier: "ListQuery" })
export type ListQueryInput = typeof ListQuery.Encoded

/** Query parameters of the audit trail: paging only. */
export const EventQuery = ListQuery.omit("status").annotations({ identifier: "EventQuery" })
export type EventQueryInput = typeof EventQuery.Encoded

export interface ListQuery {
  readonly status?: WorkflowStatus
  readonly limit: number
  readonly starting_after?: string
}

const unknownParameter = (field: string) => ({
  field,
  message: field === "status" ? "is not a filter of this list" : "is not a known parameter"
})
const decodeList = decodeBody(ListQuery, unknownParameter)
const decodeEvents = decodeBody(EventQuery, unknownParameter)

/** Query parameters of the list and events routes; `status` only where the route filters by it. */
export const decodeListQuery = (
  input: unknown,
  options: { readonly status: boolean }
): Either.Either<ListQuery, WorkflowValidationError> =>
  Either.map(
    options.status ? decodeList(input) : decodeEvents(input),
    (query) => ({ ...query, limit: query.limit ?? LIMIT_DEFAULT })
  )

export const unknownCursor: WorkflowValidationError = validationError([
  { field: "starting_after", message: "names no item of this list; pass the id of the last item of the previous page" }
])
