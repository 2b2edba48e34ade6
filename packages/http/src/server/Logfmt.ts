import { Cause, FiberId, Inspectable, List, Logger } from "effect"

/** A value written bare; any other is written as a JSON string. */
const BARE = /^[^\s"=]*$/
/** Characters a label may not contain; each becomes `_`. */
const UNSAFE_IN_LABEL = /[\s="]/
const UNSAFE_IN_LABEL_ALL = /[\s="]/g

const value = (text: string): string => (BARE.test(text) ? text : JSON.stringify(text))
const label = (key: string): string => (UNSAFE_IN_LABEL.test(key) ? key.replace(UNSAFE_IN_LABEL_ALL, "_") : key)
const text = (u: unknown): string => (typeof u === "string" ? u : Inspectable.toStringUnknown(u, 0))

/**
 * Effect's `Logger.logfmtLogger`, line for line (same keys, order, quoting and escaping; a test
 * holds them equal), written for a log line per request: it tests instead of matching, names a
 * request's fiber without building a set of its ids, and leaves safe labels as they are.
 */
export const logfmtLogger: Logger.Logger<unknown, string> = Logger.make(
  ({ annotations, cause, date, fiberId, logLevel, message, spans }) => {
    const fiber = fiberId._tag === "Runtime" ? `#${fiberId.id}` : FiberId.threadName(fiberId)
    let out = `timestamp=${value(date.toISOString())} level=${value(logLevel.label)} fiber=${value(fiber)}`
    if (Array.isArray(message)) {
      for (const part of message) out += ` message=${value(text(part))}`
    } else {
      out += ` message=${value(text(message))}`
    }
    if (!Cause.isEmptyType(cause)) out += ` cause=${value(Cause.pretty(cause, { renderErrorCause: true }))}`
    if (List.isCons(spans)) {
      const now = date.getTime()
      for (const span of spans) out += ` ${label(span.label)}=${now - span.startTime}ms`
    }
    for (const [key, annotation] of annotations) out += ` ${label(key)}=${value(text(annotation))}`
    return out
  }
)
