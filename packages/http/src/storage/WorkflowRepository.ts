import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import {
  Actor,
  Changes,
  copyActor,
  copyChanges,
  encodeWorkflowEventUnchecked,
  encodeWorkflowUnchecked,
  guard,
  type OrganizationId,
  Workflow,
  WorkflowEvent,
  type WorkflowId,
  type WorkflowStatus
} from "@workflows/domain"
import { Cause, DateTime, Effect, Either, Exit, Option, type ParseResult, Schema } from "effect"
import type { Page } from "../service/Workflows.js"
import { executor, forUpdate } from "./Sql.js"
import * as SqliteConnection from "./SqliteConnection.js"

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

/** The SQL text of the hot statements on SQLite, prepared once on the connection. */
const SQLITE = {
  find: "SELECT * FROM workflows WHERE id = ? AND organization_id = ?",
  insert: `INSERT INTO workflows (id, organization_id, title, description, status, node_count, edge_count,
    enrolled_leads, version, created_at, updated_at) VALUES (@id, @organization_id, @title, @description, @status,
    @node_count, @edge_count, @enrolled_leads, @version, @created_at, @updated_at)`,
  replace: `UPDATE workflows SET title = @title, description = @description, status = @status, version = @version,
    updated_at = @updated_at WHERE id = @id AND version = @version - 1`,
  appendEvent: `INSERT INTO workflow_events (id, workflow_id, organization_id, type, actor, request_id, reason, changes,
    created_at) VALUES (@id, @workflow_id, @organization_id, @type, @actor, @request_id, @reason, @changes, @created_at)`
} as const

/**
 * Row codecs for the statements run directly on SQLite, with the domain's schemas: a check with
 * `guard` (`Schema.is`'s answer, compiled) and the few conversions done by hand, which allocates
 * a fraction of a full decode or encode. When the check fails, the full decode or encode runs
 * to report why, as a defect: a corrupt row is a bug, never a wrong answer.
 */
const isWorkflowRow = guard(Schema.encodedBoundSchema(Workflow))
const decodeWorkflowFully = Schema.decodeUnknownEither(Workflow)
const encodeWorkflowFully = Schema.encodeEither(Workflow)
const isEvent = guard(Schema.Struct(WorkflowEvent.fields))
const encodeEventFully = Schema.encodeEither(EventRow)

/** An `Exit`, so that the statements run on SQLite can decide their outcome synchronously. */
const invalid = <A>(report: Either.Either<A, ParseResult.ParseError>, what: string): Exit.Exit<never> =>
  Exit.die(Either.isLeft(report) ? report.left : new Cause.RuntimeException(`${what} failed its schema check`))

/** The workflow a row holds, or `undefined` when it fails the check. */
const checkedWorkflow = (row: unknown): Workflow | undefined => {
  if (!isWorkflowRow(row)) return undefined
  const created_at = DateTime.make(row.created_at)
  const updated_at = DateTime.make(row.updated_at)
  if (Option.isNone(created_at) || Option.isNone(updated_at)) return undefined
  return new Workflow({
    // The check ran the domain's refinements, so the branded types hold.
    ...(row as unknown as Omit<Schema.Struct.Type<typeof Workflow.fields>, "created_at" | "updated_at">),
    created_at: DateTime.toUtc(created_at.value),
    updated_at: DateTime.toUtc(updated_at.value)
  }, true)
}

/** The workflow the row holds, none without a row. */
const workflowFromRow = (row: unknown): Exit.Exit<Option.Option<Workflow>> => {
  if (row === undefined) return Exit.succeed(Option.none())
  const workflow = checkedWorkflow(row)
  return workflow === undefined
    ? invalid(decodeWorkflowFully(row), "a workflow row")
    : Exit.succeed(Option.some(workflow))
}

/** Every row through `check`; the first that fails is decoded in full, for the schema's error (a defect). */
const checkedRows = <A>(
  check: (row: unknown) => A | undefined,
  decodeFully: (row: unknown) => Either.Either<unknown, ParseResult.ParseError>,
  what: string
) =>
(rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>> => {
  const checked: Array<A> = []
  for (const row of rows) {
    const value = check(row)
    if (value === undefined) return invalid(decodeFully(row), what)
    checked.push(value)
  }
  return Effect.succeed(checked)
}

const workflowsFromRows = checkedRows(checkedWorkflow, decodeWorkflowFully, "a workflow row")

const decodeEventFully = Schema.decodeUnknownEither(EventRow)
const parseJson = (text: unknown): Option.Option<unknown> =>
  typeof text === "string" ? Either.getRight(Either.try(() => JSON.parse(text) as unknown)) : Option.none()

/**
 * The event a row holds, or `undefined` when it fails the check: the same rules as decoding `EventRow`
 * (JSON text for `actor` and `changes`, an ISO timestamp), the actor and changes copied with their own fields.
 */
const checkedEvent = (row: unknown): WorkflowEvent | undefined => {
  if (typeof row !== "object" || row === null || !("created_at" in row) || typeof row.created_at !== "string") {
    return undefined
  }
  const actor = "actor" in row ? parseJson(row.actor) : Option.none()
  const changes = "changes" in row ? parseJson(row.changes) : Option.none()
  const created_at = DateTime.make(row.created_at)
  if (Option.isNone(actor) || Option.isNone(changes) || Option.isNone(created_at)) return undefined
  const fields = { ...row, actor: actor.value, changes: changes.value, created_at: DateTime.toUtc(created_at.value) }
  if (!isEvent(fields)) return undefined
  return new WorkflowEvent({ ...fields, actor: copyActor(fields.actor), changes: copyChanges(fields.changes) }, true)
}

const eventsFromRows = checkedRows(checkedEvent, decodeEventFully, "an event row")

const rowFromWorkflow = (workflow: Workflow): Either.Either<typeof Workflow.Encoded, Exit.Exit<never>> => {
  const row = encodeWorkflowUnchecked(workflow)
  return isWorkflowRow(row) ? Either.right(row) : Either.left(invalid(encodeWorkflowFully(workflow), "a workflow"))
}

/** What `replace` writes: the fields a change can touch, checked one by one (the rest was checked when stored). */
const isChange = {
  title: guard(Workflow.fields.title),
  description: guard(Workflow.fields.description),
  status: guard(Workflow.fields.status),
  version: guard(Workflow.fields.version)
}

const changeFromWorkflow = (workflow: Workflow) =>
  isChange.title(workflow.title) && isChange.description(workflow.description) &&
    isChange.status(workflow.status) && isChange.version(workflow.version)
    ? Either.right({
      id: workflow.id,
      title: workflow.title,
      description: workflow.description,
      status: workflow.status,
      version: workflow.version,
      updated_at: DateTime.formatIso(workflow.updated_at)
    })
    : Either.left(invalid(encodeWorkflowFully(workflow), "a workflow"))

/** An event's row: its encoded form (the domain's field list), with `actor` and `changes` as JSON text. */
const rowFromEvent = (event: WorkflowEvent): Either.Either<typeof EventRow.Encoded, Exit.Exit<never>> => {
  if (!isEvent(event)) return Either.left(invalid(encodeEventFully(event), "an event"))
  const encoded = encodeWorkflowEventUnchecked(event)
  return Either.right({ ...encoded, actor: JSON.stringify(encoded.actor), changes: JSON.stringify(encoded.changes) })
}

/**
 * Every SQL statement the service runs, written once for both dialects. Rows are decoded with
 * the domain's schemas; a row that fails to decode is a bug (a defect), not a client error.
 * On our SQLite connection the statements of a request (find, insert, replace, appendEvent, and
 * a change with its event together) are prepared once and run in one step each, without
 * `@effect/sql`'s statement plumbing (docs/DECISIONS.md); with a tracer enabled, or on PostgreSQL,
 * they go through `sql` as written below.
 */
export class WorkflowRepository extends Effect.Service<WorkflowRepository>()("@workflows/WorkflowRepository", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sqlite = SqliteConnection.fromClient(sql)
    const execute = executor(sql)
    const encodeWorkflow = Schema.encode(Workflow)
    const encodeEvent = Schema.encode(EventRow)
    const lockSuffix = forUpdate(sql)

    /**
     * One statement, written for our SQLite connection (run there in one step, its outcome decided
     * synchronously) and through `sql` (with a tracer enabled, or on PostgreSQL).
     */
    interface Statement<A> {
      readonly onSqlite: (connection: SqliteConnection.SqliteConnection) => Exit.Exit<A>
      readonly viaSql: () => Effect.Effect<A, SqlError | ParseResult.ParseError>
    }

    /** Runs `statement`; any failure is a defect. */
    const run = <A>({ onSqlite, viaSql }: Statement<A>): Effect.Effect<A> =>
      sqlite === undefined
        ? Effect.orDie(viaSql())
        : sqlite.runUntracedOrDie(onSqlite, () => Effect.orDie(viaSql()))

    const select = (
      organization: OrganizationId,
      id: WorkflowId,
      suffix: ReturnType<typeof forUpdate>
    ): Statement<Option.Option<Workflow>> => ({
      onSqlite: (connection) => workflowFromRow(connection.prepare(SQLITE.find).get(id, organization)),
      viaSql: () =>
        execute(sql`SELECT * FROM workflows WHERE id = ${id} AND organization_id = ${organization} ${suffix}`).pipe(
          Effect.flatMap((rows) => workflowFromRow(rows[0]))
        )
    })

    const noSuffix = sql.literal("")
    const find = (organization: OrganizationId, id: WorkflowId) => run(select(organization, id, noSuffix))

    /** Inside a write transaction: the row, locked against other writers until commit (PostgreSQL). */
    const findForWrite = (organization: OrganizationId, id: WorkflowId) => run(select(organization, id, lockSuffix))

    /** One row inserted into `table`: checked and prepared on SQLite (`text`), encoded by its schema for `sql`. */
    const insertStatement = <A, Row extends Record<string, unknown>>(
      table: string,
      text: string,
      rowOf: (value: A) => Either.Either<Row, Exit.Exit<never>>,
      encode: (value: A) => Effect.Effect<Row, ParseResult.ParseError>
    ) =>
    (value: A): Statement<void> => ({
      onSqlite: (connection) => {
        const row = rowOf(value)
        if (Either.isLeft(row)) return row.left
        connection.prepare(text).run(row.right)
        return Exit.void
      },
      viaSql: () =>
        encode(value).pipe(
          Effect.flatMap((row) => execute(sql`INSERT INTO ${sql(table)} ${sql.insert(row)}`)),
          Effect.asVoid
        )
    })

    const insertWorkflow = insertStatement("workflows", SQLITE.insert, rowFromWorkflow, encodeWorkflow)
    const insert = (workflow: Workflow) => run(insertWorkflow(workflow))

    /**
     * Writes the new state only if the stored version is still the one it was derived from.
     * The caller holds the row (or database) lock, so a miss here is a bug, never a race to retry.
     */
    const replaceStatement = (workflow: Workflow): Statement<void> => {
      const changedUnderLock = () =>
        Exit.die(new Cause.RuntimeException(`workflow ${workflow.id} changed under a held lock`))
      return {
        onSqlite: (connection) => {
          const row = changeFromWorkflow(workflow)
          if (Either.isLeft(row)) return row.left
          return connection.prepare(SQLITE.replace).run(row.right).changes === 1 ? Exit.void : changedUnderLock()
        },
        viaSql: () =>
          encodeWorkflow(workflow).pipe(
            Effect.flatMap((row) =>
              execute(
                sql`UPDATE workflows SET title = ${row.title}, description = ${row.description}, status = ${row.status},
                version = ${row.version}, updated_at = ${row.updated_at}
              WHERE id = ${row.id} AND version = ${row.version - 1} RETURNING id`
              )
            ),
            Effect.flatMap((rows) => (rows.length === 1 ? Effect.void : changedUnderLock()))
          )
      }
    }

    const appendEventStatement = insertStatement("workflow_events", SQLITE.appendEvent, rowFromEvent, encodeEvent)

    const replace = (workflow: Workflow) => run(replaceStatement(workflow))
    const appendEvent = (event: WorkflowEvent) => run(appendEventStatement(event))

    /**
     * `replace`, then `appendEvent`, inside the caller's write transaction. On SQLite both run in
     * one step: the transaction holds the only connection, so nothing could run between them anyway.
     */
    const replaceWithEvent = (workflow: Workflow, event: WorkflowEvent) => {
      const replaced = replaceStatement(workflow)
      const appended = appendEventStatement(event)
      return run({
        onSqlite: (connection) => {
          const exit = replaced.onSqlite(connection)
          return Exit.isSuccess(exit) ? appended.onSqlite(connection) : exit
        },
        viaSql: () => Effect.zipRight(replaced.viaSql(), appended.viaSql())
      })
    }

    /** The statuses a filter matches: `active` includes the legacy `running`. */
    const statusesFor = (status: WorkflowStatus): ReadonlyArray<WorkflowStatus> =>
      status === "active" || status === "running" ? ["active", "running"] : [status]

    /** `None` when the cursor names no workflow of this organization. */
    // `fnUntraced`: one generator function for every call (one made per call costs V8 a new
    // prototype and hidden class each time).
    const list = Effect.fnUntraced(
      function*(organization: OrganizationId, query: PageQuery & { readonly status?: WorkflowStatus }) {
        const clauses = [sql`organization_id = ${organization}`]
        if (query.status !== undefined) clauses.push(sql`status IN ${sql.in(statusesFor(query.status))}`)
        if (query.starting_after !== undefined) {
          const cursor = yield* find(organization, query.starting_after as WorkflowId)
          if (Option.isNone(cursor)) return Option.none()
          const { created_at, id } = yield* Effect.orDie(encodeWorkflow(cursor.value))
          clauses.push(sql`(created_at < ${created_at} OR (created_at = ${created_at} AND id < ${id}))`)
        }
        const rows = yield* execute(sql`SELECT * FROM workflows WHERE ${sql.and(clauses)}
          ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`).pipe(
          Effect.orDie,
          Effect.flatMap(workflowsFromRows)
        )
        return Option.some(toPage(rows, query.limit))
      }
    )

    /** `None` when the cursor names no event of this workflow. */
    const events = Effect.fnUntraced(function*(workflow: WorkflowId, query: PageQuery) {
      const clauses = [sql`workflow_id = ${workflow}`]
      if (query.starting_after !== undefined) {
        const cursor = yield* execute(sql<{ seq: number | string }>`SELECT seq FROM workflow_events
            WHERE id = ${query.starting_after} AND workflow_id = ${workflow}`).pipe(Effect.orDie)
        const seq = cursor[0]?.seq
        if (seq === undefined) return Option.none()
        clauses.push(sql`seq < ${seq}`)
      }
      const rows = yield* execute(
        sql`SELECT id, workflow_id, organization_id, type, actor, request_id, reason, changes, created_at
          FROM workflow_events WHERE ${sql.and(clauses)} ORDER BY seq DESC LIMIT ${query.limit + 1}`
      ).pipe(Effect.orDie, Effect.flatMap(eventsFromRows))
      return Option.some(toPage(rows, query.limit))
    })

    return { find, findForWrite, insert, replace, appendEvent, replaceWithEvent, list, events } as const
  })
}) {}
