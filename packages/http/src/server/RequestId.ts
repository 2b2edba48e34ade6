import { FiberRef } from "effect"
import { randomUUID } from "node:crypto"

/** The current request's id, set by the edge for everything that runs on the request's fiber. */
export const CurrentRequestId: FiberRef.FiberRef<string | null> = FiberRef.unsafeMake<string | null>(null)

const SANE = /^[A-Za-z0-9._:-]{1,128}$/

/** The caller's `X-Request-Id` when it is sane, else a fresh one: ids end up in logs and the audit trail. */
export const requestIdFrom = (incoming: string | undefined): string =>
  incoming !== undefined && SANE.test(incoming) ? incoming : `req_${randomUUID().replaceAll("-", "")}`
