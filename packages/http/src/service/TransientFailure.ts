/**
 * Failures that say "not now" rather than "bug", wherever they surface: the server answers them
 * with 503 + Retry-After, and a bulk update retries them with backoff.
 */
const field = (
  u: unknown,
  key: string
): unknown => (typeof u === "object" && u !== null ? (u as Record<string, unknown>)[key] : undefined)

/** The failure and its causes, outermost first; bounded, since a cause chain could loop. */
function* causeChain(defect: unknown): Generator<unknown> {
  let current = defect
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    yield current
    current = field(current, "cause")
  }
}

// Connection refused, reset or unreachable; PostgreSQL shutting down, out of connection slots,
// cancelling a statement at its timeout or giving up on a lock at lock_timeout; SQLite still
// locked when busy_timeout ran out.
const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "57014",
  "55P03",
  "SQLITE_BUSY",
  "SQLITE_BUSY_SNAPSHOT",
  "SQLITE_BUSY_TIMEOUT",
  "SQLITE_LOCKED"
])

const POOL_TIMEOUT_MESSAGE = "timeout exceeded when trying to connect"

/**
 * A failure that says "not now" rather than "bug": some error in the chain carries a code of a
 * database that is down, overloaded or locked (PostgreSQL class 08 is "connection exception").
 * The code is returned for the metrics (`POOL_TIMEOUT` when no pooled connection came free).
 */
export const transientCode = (defect: unknown): string | undefined => {
  for (const error of causeChain(defect)) {
    const code = field(error, "code")
    if (typeof code === "string" && (TRANSIENT_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return code
    // pg-pool's error when no connection came free in time carries no code, only this message.
    if (field(error, "message") === POOL_TIMEOUT_MESSAGE) return "POOL_TIMEOUT"
  }
  return undefined
}

export const isTransientFailure = (defect: unknown): boolean => transientCode(defect) !== undefined

/** The first driver code along a defect's chain of causes, for the metrics of other database failures. */
export const firstCode = (defect: unknown): string | undefined => {
  for (const error of causeChain(defect)) {
    const code = field(error, "code")
    if (typeof code === "string") return code
  }
  return undefined
}

/** A failure of the SQL client (as opposed to a bug in our own code). */
export const isSqlError = (defect: unknown): boolean => field(defect, "_tag") === "SqlError"
