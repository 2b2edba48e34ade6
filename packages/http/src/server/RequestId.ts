import { FiberRef } from "effect"
import { randomFillSync } from "node:crypto"

/** The current request's id, set by the edge for everything that runs on the request's fiber. */
export const CurrentRequestId: FiberRef.FiberRef<string | null> = FiberRef.unsafeMake<string | null>(null)

const SANE = /^[A-Za-z0-9._:-]{1,128}$/

const ID_BYTES = 16
const pool = Buffer.alloc(ID_BYTES * 256)
let used = pool.length

/**
 * 128 random bits as 32 hex digits, from `node:crypto` bytes drawn a pool at a time (as Node does
 * for `randomUUID`): most requests come without an id, and `randomUUID` plus removing its dashes
 * allocates about ten times the id itself.
 */
const randomHex = (): string => {
  if (used === pool.length) {
    randomFillSync(pool)
    used = 0
  }
  used += ID_BYTES
  return pool.toString("hex", used - ID_BYTES, used)
}

/** The caller's `X-Request-Id` when it is sane, else a fresh one: ids end up in logs and the audit trail. */
export const requestIdFrom = (incoming: string | undefined): string =>
  incoming !== undefined && SANE.test(incoming) ? incoming : `req_${randomHex()}`
