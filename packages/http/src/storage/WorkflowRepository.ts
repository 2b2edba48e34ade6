import { SqlClient } from "@effect/sql"
import {
  Actor,
  Changes,
  type OrganizationId,
  Workflow,
  WorkflowEvent,
  type WorkflowId,
  type WorkflowStatus
} from "@workflows/domain"
import { Effect, Option, Schema } from "effect"
import type { Page } from "../service/Workflows.js"
import { executeInTransaction, forUpdate } from "./Sql.js"

/** Events keep `actor` and `changes` as JSON text, so one schema serves SQLite and PostgreSQL. */
const EventRow = Schema.Struct({
  ...WorkflowEvent.fields,
  actor: Schema.parseJson(Actor),
  changes: Schema.parseJson(Changes)
})

export interface PageQuery {
  readonly limit: number
  readonly starting_after?: string
}

const toPage = <A>(rows: ReadonlyArray<A>, limit: number): Page<A> => ({
  data: rows.slice(0, limit),
  has_more: rows.length > limit
})

/**
 * Every SQL statement the service runs, written once for both dialects. Rows are decoded with
 * the domain's schemas; a row that fails to decode is a bug (a defect), not a client error.
 */
export class WorkflowRepository extends Effect.Service<WorkflowRepository>()("@workflows/WorkflowRepository", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeWorkflows = Schema.decodeUnknown(Schema.Array(Workflow))
    const encodeWorkflow = Schema.encode(Workflow)
    const decodeEvents = Schema.decodeUnknown(Schema.Array(EventRow))
    const encodeEvent = Schema.encode(EventRow)
    const lockSuffix = forUpdate(sql)

    const first = <A>(rows: ReadonlyArray<A>) => Option.fromNullable(rows[0])

    const select = (organization: OrganizationId, id: WorkflowId, suffix: ReturnType<typeof forUpdate>) =>
      executeInTransaction(
        sql`SELECT * FROM workflows WHERE id = ${id} AND organization_id = ${organization} ${suffix}`
      ).pipe(
        Effect.flatMap(decodeWorkflows),
        Effect.map(first),
        Effect.orDie
      )

    const find = (organization: OrganizationId, id: WorkflowId) => select(organization, id, sql.literal(""))

    /** Inside a write transaction: the row, locked against other writers until commit (PostgreSQL). */
    const findForWrite = (organization: OrganizationId, id: WorkflowId) => select(organization, id, lockSuffix)

    const insert = (workflow: Workflow) =>
      encodeWorkflow(workflow).pipe(
        Effect.flatMap((row) => executeInTransaction(sql`INSERT INTO workflows ${sql.insert(row)}`)),
        Effect.asVoid,
        Effect.orDie
      )

    /**
     * Writes the new state only if the stored version is still the one it was derived from.
     * The caller holds the row (or database) lock, so a miss here is a bug, never a race to retry.
     */
    const replace = (workflow: Workflow) =>
      encodeWorkflow(workflow).pipe(
        Effect.flatMap((row) =>
          executeInTransaction(
            sql`UPDATE workflows SET title = ${row.title}, description = ${row.description}, status = ${row.status},
                version = ${row.version}, updated_at = ${row.updated_at}
              WHERE id = ${row.id} AND version = ${row.version - 1} RETURNING id`
          )
        ),
        Effect.flatMap((rows) =>
          rows.length === 1 ? Effect.void : Effect.dieMessage(`workflow ${workflow.id} changed under a held lock`)
        ),
        Effect.orDie
      )

    const appendEvent = (event: WorkflowEvent) =>
      encodeEvent(event).pipe(
        Effect.flatMap((row) => executeInTransaction(sql`INSERT INTO workflow_events ${sql.insert(row)}`)),
        Effect.asVoid,
        Effect.orDie
      )

    /** The statuses a filter matches: `active` includes the legacy `running`. */
    const statusesFor = (status: WorkflowStatus): ReadonlyArray<WorkflowStatus> =>
      status === "active" || status === "running" ? ["active", "running"] : [status]

    /** `None` when the cursor names no workflow of this organization. */
    const list = (organization: OrganizationId, query: PageQuery & { readonly status?: WorkflowStatus }) =>
      Effect.gen(function*() {
        const clauses = [sql`organization_id = ${organization}`]
        if (query.status !== undefined) clauses.push(sql`status IN ${sql.in(statusesFor(query.status))}`)
        if (query.starting_after !== undefined) {
          const cursor = yield* find(organization, query.starting_after as WorkflowId)
          if (Option.isNone(cursor)) return Option.none()
          const { created_at, id } = yield* Effect.orDie(encodeWorkflow(cursor.value))
          clauses.push(sql`(created_at < ${created_at} OR (created_at = ${created_at} AND id < ${id}))`)
        }
        const rows = yield* sql`SELECT * FROM workflows WHERE ${sql.and(clauses)}
          ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`.pipe(
          Effect.flatMap(decodeWorkflows),
          Effect.orDie
        )
        return Option.some(toPage(rows, query.limit))
      })

    /** `None` when the cursor names no event of this workflow. */
    const events = (workflow: WorkflowId, query: PageQuery) =>
      Effect.gen(function*() {
        const clauses = [sql`workflow_id = ${workflow}`]
        if (query.starting_after !== undefined) {
          const cursor = yield* sql<{ seq: number | string }>`SELECT seq FROM workflow_events
            WHERE id = ${query.starting_after} AND workflow_id = ${workflow}`.pipe(Effect.orDie)
          const seq = cursor[0]?.seq
          if (seq === undefined) return Option.none()
          clauses.push(sql`seq < ${seq}`)
        }
        const rows =
          yield* sql`SELECT id, workflow_id, organization_id, type, actor, request_id, reason, changes, created_at
          FROM workflow_events WHERE ${sql.and(clauses)} ORDER BY seq DESC LIMIT ${query.limit + 1}`.pipe(
            Effect.flatMap(decodeEvents),
            Effect.map((decoded) => decoded.map((row) => new WorkflowEvent(row))),
            Effect.orDie
          )
        return Option.some(toPage(rows, query.limit))
      })

    return { find, findForWrite, insert, replace, appendEvent, list, events } as const
  })
}) {}
