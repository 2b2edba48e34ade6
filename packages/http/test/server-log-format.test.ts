import { describe, expect, it } from "@effect/vitest"
import { logfmtLogger } from "@workflows/http"
import { Cause, FiberId, FiberRefs, HashMap, List, Logger, LogLevel, LogSpan } from "effect"
import * as fc from "effect/FastCheck"

const date = new Date("2026-11-30T01:02:03.456Z")

const entry = (fields: Partial<Logger.Logger.Options<unknown>> = {}): Logger.Logger.Options<unknown> => ({
  fiberId: FiberId.runtime(42, 0),
  logLevel: LogLevel.Info,
  message: ["GET /healthz 200"],
  cause: Cause.empty,
  context: FiberRefs.empty(),
  spans: List.empty(),
  annotations: HashMap.empty(),
  date,
  ...fields
})

const annotated = (pairs: ReadonlyArray<readonly [string, unknown]>) => HashMap.fromIterable(pairs)

/** What Effect's own logfmt logger writes for the same entry. */
const effects = (options: Logger.Logger.Options<unknown>) => Logger.logfmtLogger.log(options)

describe("the server's logfmt lines", () => {
  it("are the request line operators read: timestamp, level, fiber, message, then the annotations", () => {
    const line = logfmtLogger.log(entry({
      message: ["PATCH /v1/workflows/wfl_1 200"],
      annotations: annotated([["request_id", "req_abc"], ["status", 200], ["duration_ms", 1.5]])
    }))
    expect(line).toBe(
      "timestamp=2026-11-30T01:02:03.456Z level=INFO fiber=#42 message=\"PATCH /v1/workflows/wfl_1 200\" " +
        "request_id=req_abc status=200 duration_ms=1.5"
    )
  })

  it("keep a message with quotes, backslashes, = and newlines on one line, escaped as Effect's logfmt logger does", () => {
    const options = entry({ message: ["a \"quoted\" C:\\path a=b\nsecond line\r\tend"] })
    const line = logfmtLogger.log(options)
    expect(line).toBe(effects(options))
    expect(line).not.toMatch(/[\n\r]/)
    expect(line).toContain(String.raw`message="a \"quoted\" C:\\path a=b\nsecond line\r\tend"`)
  })

  it("write what Effect's logfmt logger writes for causes, spans, levels, fiber ids and odd labels", () => {
    const failure = new Error("row 7 is \"bogus\"\n  at somewhere")
    const cases: ReadonlyArray<Logger.Logger.Options<unknown>> = [
      entry(),
      entry({ message: "a bare string" }),
      entry({ message: ["first", 2, { nested: ["object", null] }, undefined, 10n, Symbol.for("s")] }),
      entry({ message: [] }),
      entry({ logLevel: LogLevel.Error, message: ["request failed with a defect"], cause: Cause.die(failure) }),
      entry({ logLevel: LogLevel.Warning, cause: Cause.fail({ _tag: "DatabaseUnavailable", code: "SQLITE_BUSY" }) }),
      entry({ cause: Cause.interrupt(FiberId.runtime(7, 0)) }),
      entry({ spans: List.make(LogSpan.make("db query", date.getTime() - 12), LogSpan.make("outer", date.getTime())) }),
      entry({ fiberId: FiberId.none }),
      entry({ fiberId: FiberId.composite(FiberId.runtime(1, 0), FiberId.runtime(2, 0)) }),
      entry({
        annotations: annotated([
          ["request_id", "req_x"],
          ["with space", "v"],
          ["eq=\"q\"", "has space"],
          ["n", -0.25],
          ["obj", { a: 1, b: "two words" }],
          ["list", [1, "x y"]],
          ["empty", ""],
          ["nul", null],
          ["bool", true],
          ["date", date]
        ])
      })
    ]
    for (const options of cases) expect(logfmtLogger.log(options)).toBe(effects(options))
  })

  it("write what Effect's logfmt logger writes for any message and annotations", () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constantFrom("", "=", "\"", "\\", " ", "\n"))
    fc.assert(
      fc.property(
        fc.array(text, { maxLength: 3 }),
        fc.array(fc.tuple(text, fc.oneof(text, fc.double(), fc.integer())), { maxLength: 12 }),
        (message, pairs) => {
          const options = entry({ message, annotations: annotated(pairs) })
          expect(logfmtLogger.log(options)).toBe(effects(options))
        }
      ),
      { numRuns: 300 }
    )
  })
})
