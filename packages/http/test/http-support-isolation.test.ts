import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, FiberRef, Tracer } from "effect"
import { databases } from "./databases.js"
import { send, withServer } from "./http-support.js"

/**
 * A live server's block must leave the rest of the file, and of the worker (`test:unit` runs
 * files in one process, `--no-isolate`), with the plain `it.effect`: the test clock and a
 * working tracer. @effect/vitest's `layer` (0.30) overwrote the shared `it.effect` with one that
 * ran every later test on the server's runtime: live clock, tracing switched off.
 */
const db = databases[0]!

withServer(db, "a live server's block", (it) => {
  it.effect("answers on the live clock", () =>
    Effect.gen(function*() {
      expect((yield* send("GET", "/v1/nope")).status).toBe(404)
      expect(yield* Clock.currentTimeMillis).toBeGreaterThan(0)
    }))
})

describe("after a live server's block", () => {
  it.effect("a plain it.effect still runs on the test clock, with tracing on", () =>
    Effect.gen(function*() {
      expect(yield* Clock.currentTimeMillis, "the test clock starts at the epoch").toBe(0)
      expect(yield* FiberRef.get(FiberRef.currentTracerEnabled)).toBe(true)
      const spans: Array<string> = []
      const base = yield* Effect.tracer
      const tracer = Tracer.make({
        span: (name, ...rest) => {
          spans.push(name)
          return base.span(name, ...rest)
        },
        context: base.context
      })
      yield* Effect.void.pipe(Effect.withSpan("seen"), Effect.withTracer(tracer))
      expect(spans).toEqual(["seen"])
    }))
})
