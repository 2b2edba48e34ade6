import { Either } from "effect"
import { WorkflowPreconditionFailed } from "./Errors.js"
import { etagOf } from "./Workflow.js"

/**
 * RFC 9110 `If-Match`: `*` or a list of strong entity-tags. Our ETags are strong (`"<version>"`),
 * so a weak tag (`W/"3"`) never matches, nor does a bare `3`.
 */
export const checkIfMatch = (
  ifMatch: string | undefined,
  version: number
): Either.Either<void, WorkflowPreconditionFailed> => {
  if (ifMatch === undefined) return Either.void
  const current = etagOf(version)
  const tags = ifMatch.split(",").map((tag) => tag.trim())
  return tags.includes("*") || tags.includes(current)
    ? Either.void
    : Either.left(new WorkflowPreconditionFailed({ if_match: ifMatch, current_etag: current }))
}
