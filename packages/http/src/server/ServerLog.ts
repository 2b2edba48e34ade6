import { Effect, Layer, Logger } from "effect"
import { logfmtLogger } from "./Logfmt.js"

/** How long a log line may wait to be written with the lines after it. */
const FLUSH_WINDOW = "25 millis"

/**
 * The server's log: logfmt, one physical line per entry (a multi-line cause is escaped, not
 * spread over lines a log shipper would split), written to stdout in batches. The default
 * logger makes one synchronous `console.log` per line (stdout is synchronous on files and
 * pipes): a system call, and a wake-up of whoever reads the pipe, per request. Batched, a burst
 * of requests is one write (docs/DECISIONS.md). The batch still pending is written when the layer closes (shutdown), so only a `kill -9` can lose
 * the last window's lines.
 */
export const ServerLog = Layer.unwrapScoped(
  Effect.map(
    Logger.batched(logfmtLogger, FLUSH_WINDOW, (lines) =>
      Effect.sync(() => {
        process.stdout.write(lines.join("\n") + "\n")
      })),
    (logger) => Logger.replace(Logger.defaultLogger, logger)
  )
)
