import { describe, expect, it } from "@effect/vitest"
import { Workflows, WorkflowStore } from "@workflows/http"
import { Effect, Exit, Layer, Option, Tracer } from "effect"
import { databases, serviceLayer } from "./databases.js"
import { ORG_A } from "./support.js"

/** A tracer that keeps every span it makes: what an embedding program's own tracer would see. */
const collectingTracer = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = base.span(name, parent, context, links, startTime, kind, options)
      spans.push(span)
      return span
    },
    context: base.context
  })
  return { spans, tracer }
})

const parentOf = (spans: ReadonlyArray<Tracer.Span>, span: Tracer.Span) =>
  Option.flatMap(span.parent, (parent) => Option.fromNullable(spans.find((s) => s.spanId === parent.spanId)))
const parentName = (spans: ReadonlyArray<Tracer.Span>, span: Tracer.Span) =>
  Option.map(parentOf(spans, span), (parent) => parent.name)
const ancestorNames = (spans: ReadonlyArray<Tracer.Span>, span: Tracer.Span): ReadonlyArray<string> =>
  Option.match(parentOf(spans, span), {
    onNone: () => [],
    onSome: (parent) => [parent.name, ...ancestorNames(spans, parent)]
  })

for (const db of databases) {
  describe(`the in-process Workflows layer names its operations as spans (${db.name})`, () => {
    it.effect("an embedding program's tracer sees each call as a child of its own span, with the statements beneath", () =>
      Effect.gen(function*() {
        const { spans, tracer } = yield* collectingTracer
        const program = Effect.gen(function*() {
          const workflows = yield* Workflows
          const created = yield* workflows.create({ title: "Traced in-process" })
          yield* workflows.update(created.id, { title: "Renamed" })
          yield* workflows.pause(created.id).pipe(Effect.exit) // a draft cannot pause: the failure is in the span
          yield* workflows.get(created.id)
          return created.id
        }).pipe(Effect.withSpan("embedding program"))

        const id = yield* Effect.scoped(
          Effect.flatMap(
            db.fresh,
            (database) =>
              program.pipe(
                Effect.provide(
                  WorkflowStore.layer({ organization_id: ORG_A }).pipe(Layer.provideMerge(serviceLayer(database)))
                )
              )
          )
        ).pipe(Effect.withTracer(tracer))

        const operations = spans.filter((s) => s.name.startsWith("Workflows."))
        expect(operations.map((s) => s.name)).toEqual([
          "Workflows.create",
          "Workflows.update",
          "Workflows.pause",
          "Workflows.get"
        ])
        for (const operation of operations) {
          expect(parentName(spans, operation)).toEqual(Option.some("embedding program"))
          expect(operation.attributes.get("organization.id")).toBe(ORG_A)
          expect(operation.status._tag).toBe("Ended")
        }
        expect(operations[1]!.attributes.get("workflow.id")).toBe(id)
        const pause = operations[2]!
        expect(pause.status._tag === "Ended" && Exit.isFailure(pause.status.exit)).toBe(true)

        // The update's read and writes are statements within its span (in a transaction span on PostgreSQL).
        const statements = spans.filter((s) =>
          s.name === "sql.execute" && ancestorNames(spans, s).includes("Workflows.update")
        )
        expect(statements.map((s) => String(s.attributes.get("db.query.text")).split(" ")[0])).toEqual(
          expect.arrayContaining(["SELECT", "UPDATE", "INSERT"])
        )
      }))
  })
}
