import { Either } from "effect"
import { type FieldError, validationError, type WorkflowValidationError } from "./Errors.js"
import { isWorkflowStatus, type WorkflowStatus } from "./WorkflowStatus.js"

export const LIMIT_DEFAULT = 20
export const LIMIT_MAX = 100

/** What a caller may ask of a list; values arrive as numbers from code and as strings from a URL. */
export interface ListQueryInput {
  readonly status?: string | undefined
  readonly limit?: number | string | undefined
  readonly starting_after?: string | undefined
}

export interface ListQuery {
  readonly status?: WorkflowStatus
  readonly limit: number
  readonly starting_after?: string
}

const decodeLimit = (value: number | string | undefined): Either.Either<number, string> => {
  if (value === undefined) return Either.right(LIMIT_DEFAULT)
  const limit = typeof value === "number" ? value : /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN
  return Number.isInteger(limit) && limit >= 1 && limit <= LIMIT_MAX
    ? Either.right(limit)
    : Either.left(`must be an integer from 1 to ${LIMIT_MAX}`)
}

/** Query parameters of the list and events routes; `status` only where the route filters by it. */
export const decodeListQuery = (
  input: ListQueryInput,
  options: { readonly status: boolean }
): Either.Either<ListQuery, WorkflowValidationError> => {
  const errors: Array<FieldError> = []
  const limit = decodeLimit(input.limit)
  if (Either.isLeft(limit)) errors.push({ field: "limit", message: limit.left })
  if (input.status !== undefined && (!options.status || !isWorkflowStatus(input.status))) {
    errors.push({
      field: "status",
      message: options.status ? "must be one of draft, active, running, paused, completed, cancelled" : "is not a filter of this list"
    })
  }
  if (input.starting_after !== undefined && !/^[A-Za-z0-9_]{1,80}$/.test(input.starting_after)) {
    errors.push({ field: "starting_after", message: "must be the id of an item of the previous page" })
  }
  if (errors.length > 0 || Either.isLeft(limit)) return Either.left(validationError(errors as [FieldError, ...Array<FieldError>]))
  return Either.right({
    limit: limit.right,
    ...(input.status !== undefined && isWorkflowStatus(input.status) ? { status: input.status } : {}),
    ...(input.starting_after !== undefined ? { starting_after: input.starting_after } : {})
  })
}

export const unknownCursor: WorkflowValidationError = validationError([
  { field: "starting_after", message: "names no item of this list; pass the id of the last item of the previous page" }
])
