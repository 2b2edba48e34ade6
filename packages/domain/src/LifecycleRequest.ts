import { Either, Schema } from "effect"
import { decodeBody, NOT_AN_OBJECT, optional, unknownField } from "./BodyFields.js"
import { REASON_MAX } from "./Constants.js"
import type { WorkflowValidationError } from "./Errors.js"
import { Reason } from "./WorkflowText.js"

/** The optional body of a lifecycle call: `{ "reason": string }`, recorded on the audit event. */
export const LifecycleRequest = Schema.Struct({
  reason: optional(Reason).annotations({
    description: `Why, at most ${REASON_MAX} characters after trimming; recorded on the audit event.`
  })
})
  .annotations({ message: () => NOT_AN_OBJECT })
  .annotations({
    identifier: "LifecycleRequest",
    description: "Optional; the reason is recorded on the audit event.",
    examples: [{ reason: "Approved by the campaign lead." }]
  })
export type LifecycleRequest = typeof LifecycleRequest.Type
export type LifecycleRequestInput = typeof LifecycleRequest.Encoded

const decode = decodeBody(LifecycleRequest, (field) => unknownField(field, "a lifecycle call takes only reason"))

/** No body at all is fine (no reason); a body is an object with at most a `reason`. */
export const decodeLifecycleRequest = (
  body: unknown
): Either.Either<{ readonly reason: string | null }, WorkflowValidationError> =>
  body === undefined
    ? Either.right({ reason: null })
    : Either.map(decode(body), ({ reason }) => ({ reason: reason ?? null }))
