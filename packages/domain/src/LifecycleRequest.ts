import { Either } from "effect"
import { isJsonObject, notAnObject, presentFields, readField, unknownField } from "./BodyFields.js"
import { type FieldError, validationError, type WorkflowValidationError } from "./Errors.js"
import { decodeDescription } from "./WorkflowText.js"

export const REASON_MAX = 500

/** The optional body of a lifecycle call: `{ "reason": string }`, recorded on the audit event. */
export interface LifecycleRequest {
  readonly reason: string | null
}

const decodeReason = (value: unknown): Either.Either<string | null, string> => {
  if (typeof value !== "string" && value !== null) return Either.left("must be a string")
  // A reason is prose like a description: same trimming and control-character rule, shorter bound.
  return Either.flatMap(decodeDescription(value), (reason) =>
    reason !== null && [...reason].length > REASON_MAX
      ? Either.left(`must be at most ${REASON_MAX} characters after trimming`)
      : Either.right(reason)
  )
}

/** No body at all is fine; a body is an object with at most a `reason`. */
export const decodeLifecycleRequest = (body: unknown): Either.Either<LifecycleRequest, WorkflowValidationError> => {
  if (body === undefined) return Either.right({ reason: null })
  if (!isJsonObject(body)) return Either.left(validationError([notAnObject]))
  const errors: Array<FieldError> = []
  let reason: string | null = null
  for (const field of presentFields(body)) {
    if (field === "reason") {
      Either.match(decodeReason(readField(body, field)), {
        onLeft: (message) => errors.push({ field, message }),
        onRight: (r) => (reason = r)
      })
    } else errors.push(unknownField(field, "a lifecycle call takes only reason"))
  }
  return errors.length > 0 ? Either.left(validationError(errors as [FieldError, ...Array<FieldError>])) : Either.right({ reason })
}
