import { base36, type EventId, newEventId, newWorkflowId, type RandomBytes, type WorkflowId } from "@workflows/domain"
import { Effect } from "effect"
import { randomFillSync } from "node:crypto"

/** New ids drawn from `bytes`; the domain owns their format. */
export const idsFrom = (bytes: RandomBytes) => ({
  workflowId: Effect.sync((): WorkflowId => newWorkflowId(bytes)),
  eventId: Effect.sync((): EventId => newEventId(bytes)),
  /** `length` base-36 characters, for ids the domain does not know (API keys). */
  base36: (length: number) => Effect.sync(() => base36(length, bytes))
})

const POOL_SIZE = 4096

/**
 * `node:crypto` bytes handed out from a pool refilled in one call, as Node does for
 * `randomUUID`: a call into the crypto library per id cost more than making the id.
 */
export const pooledRandomBytes = (): RandomBytes => {
  const pool = new Uint8Array(POOL_SIZE)
  let offset = POOL_SIZE
  return (n) => {
    if (n > POOL_SIZE) return randomFillSync(new Uint8Array(n))
    if (offset + n > POOL_SIZE) {
      randomFillSync(pool)
      offset = 0
    }
    offset += n
    return pool.subarray(offset - n, offset)
  }
}

/**
 * Where new ids come from: `node:crypto`. Not Effect's `Random`, which seeds itself from a 32-bit
 * hash, so two processes in about 2^32 would draw the same ids and the second insert would fail.
 */
export class Ids extends Effect.Service<Ids>()("@workflows/Ids", {
  sync: () => idsFrom(pooledRandomBytes())
}) {}
