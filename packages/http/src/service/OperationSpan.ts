import { Effect, FiberRef } from "effect"

/**
 * Runs the operation `make` builds in a span named after it (`Workflows.update`), so a program
 * with a tracer sees the library's work inside its own trace. With tracing switched off (the
 * server when no exporter is configured) it adds one step instead of a span's dozen, and the
 * attributes are not even made. `make` is called when the effect runs, so an operation may do
 * its synchronous checks as plain code, in that same step.
 */
export const withOperationSpan = <A, E, R>(
  make: () => Effect.Effect<A, E, R>,
  name: string,
  organization: string,
  workflow?: string
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) =>
    fiber.getFiberRef(FiberRef.currentTracerEnabled)
      ? Effect.withSpan(Effect.suspend(make), name, {
        attributes: workflow === undefined
          ? { "organization.id": organization }
          : { "organization.id": organization, "workflow.id": workflow },
        captureStackTrace: false
      })
      : make()
  )
