import { Effect, FiberRef } from "effect"

/**
 * Runs `effect` in a span named after the operation (`Workflows.update`), so a program with a
 * tracer sees the library's work inside its own trace. With tracing switched off (the server
 * when no exporter is configured) it adds one step instead of a span's dozen, and the
 * attributes are not even made.
 */
export const withOperationSpan = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  name: string,
  organization: string,
  workflow?: string
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) =>
    fiber.getFiberRef(FiberRef.currentTracerEnabled)
      ? Effect.withSpan(effect, name, {
        attributes: workflow === undefined
          ? { "organization.id": organization }
          : { "organization.id": organization, "workflow.id": workflow },
        captureStackTrace: false
      })
      : effect
  )
