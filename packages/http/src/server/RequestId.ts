import { FiberRef } from "effect"
import { pooledRandomBytes } from "../storage/Ids.js"

/** The current request's id, set by the edge for everything that runs on the request's fiber. */
export const CurrentRequestId: FiberRef.FiberRef<string | null> = FiberRef.unsafeMake<string | null>(null)

const SANE = /^[A-Za-z0-9._:-]{1,128}$/

const ID_BYTES = 16
const requestIdBytes = pooledRandomBytes()

/**
 * 128 random bits as 32 hex digits, from the same pooled `node:crypto` bytes as the other ids:
 * most requests come without an id, and `randomUUID` plus removing its dashes allocates about ten
 * times the id itself.
 */
const randomHex = (): string => {
  const bytes = requestIdBytes(ID_BYTES)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")
}

/** The caller's `X-Request-Id` when it is sane, else a fresh one: ids end up in logs and the audit trail. */
export const requestIdFrom = (incoming: string | undefined): string =>
  incoming !== undefined && SANE.test(incoming) ? incoming : `req_${randomHex()}`
