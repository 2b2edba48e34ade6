import { base36, type EventId, newEventId, newWorkflowId, type RandomBytes, type WorkflowId } from "@workflows/domain"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"

/** New ids drawn from `bytes`; the domain owns their format. */
export const idsFrom = (bytes: RandomBytes) => ({
  workflowId: Effect.sync((): WorkflowId => newWorkflowId(bytes)),
  eventId: Effect.sync((): EventId => newEventId(bytes)),
  /** `length` base-36 characters, for ids the domain does not know (API keys). */
  base36: (length: number) => Effect.sync(() => base36(length, bytes))
})

/**
 * Where new ids come from: `node:crypto`. Not Effect's `Random`, which seeds itself from a 32-bit
 * hash, so two processes in about 2^32 would draw the same ids and the second insert would fail.
 */
export class Ids extends Effect.Service<Ids>()("@workflows/Ids", {
  succeed: idsFrom(randomBytes)
}) {}
