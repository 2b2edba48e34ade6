import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { type Actor, OrganizationId, type WorkflowStatus } from "@workflows/domain"
import { type Caller, type UncheckedWorkflows, WorkflowStore } from "@workflows/http"
import { Effect } from "effect"

/**
 * Shared helpers of the storage/service suite: callers in two organizations, direct reads of
 * the tables (what is really stored, not what the service says it stored) and direct inserts
 * of rows the service cannot create itself (legacy `running`, chosen timestamps and versions).
 */

export const ORG_A = OrganizationId.make("org_alpha")
export const ORG_B = OrganizationId.make("org_beta")

export const KEY_ACTOR: Actor = { type: "api_key", id: "key_testactor01" }

/** The service as one caller sees it (what the HTTP server builds per request). */
export const apiFor = (
  organization_id: OrganizationId = ORG_A,
  options: { readonly actor?: Actor; readonly request_id?: string | null } = {}
): Effect.Effect<UncheckedWorkflows, never, WorkflowStore> =>
  Effect.map(WorkflowStore, (store) =>
    store.forCaller(
      {
        organization_id,
        actor: options.actor ?? KEY_ACTOR,
        request_id: options.request_id === undefined ? "req-test-1" : options.request_id
      } satisfies Caller
    ))

/** A stored `workflows` row as the database holds it. */
export interface WorkflowRow {
  readonly id: string
  readonly organization_id: string
  readonly title: string
  readonly description: string | null
  readonly status: string
  readonly node_count: number
  readonly edge_count: number
  readonly enrolled_leads: number
  readonly version: number
  readonly created_at: string
  readonly updated_at: string
}

/** A stored `workflow_events` row, with its JSON columns parsed. */
export interface EventRow {
  readonly seq: number
  readonly id: string
  readonly workflow_id: string
  readonly organization_id: string
  readonly type: string
  readonly actor: unknown
  readonly request_id: string | null
  readonly reason: string | null
  readonly changes: Record<string, { readonly from: string | null; readonly to: string | null }>
  readonly created_at: string
}

const normalizeWorkflow = (row: Record<string, unknown>): WorkflowRow => ({
  id: String(row.id),
  organization_id: String(row.organization_id),
  title: String(row.title),
  description: row.description === null ? null : String(row.description),
  status: String(row.status),
  node_count: Number(row.node_count),
  edge_count: Number(row.edge_count),
  enrolled_leads: Number(row.enrolled_leads),
  version: Number(row.version),
  created_at: String(row.created_at),
  updated_at: String(row.updated_at)
})

const normalizeEvent = (row: Record<string, unknown>): EventRow => ({
  seq: Number(row.seq),
  id: String(row.id),
  workflow_id: String(row.workflow_id),
  organization_id: String(row.organization_id),
  type: String(row.type),
  actor: JSON.parse(String(row.actor)),
  request_id: row.request_id === null ? null : String(row.request_id),
  reason: row.reason === null ? null : String(row.reason),
  changes: JSON.parse(String(row.changes)),
  created_at: String(row.created_at)
})

/** The stored row of one workflow (fails the test when there is none). */
export const rowOf = (id: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* Effect.orDie(sql<Record<string, unknown>>`SELECT * FROM workflows WHERE id = ${id}`)
    expect(rows, `exactly one stored row for ${id}`).toHaveLength(1)
    return normalizeWorkflow(rows[0]!)
  })

/** Every stored event of one workflow, oldest first. */
export const eventsOf = (id: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* Effect.orDie(
      sql<Record<string, unknown>>`SELECT * FROM workflow_events WHERE workflow_id = ${id} ORDER BY seq`
    )
    return rows.map(normalizeEvent)
  })

/** Number of rows in a table. */
export const countOf = (table: "workflows" | "workflow_events" | "api_keys" | "idempotency_keys" | "organizations") =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* Effect.orDie(sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql(table)}`)
    return Number(rows[0]!.n)
  })

/**
 * Everything the service can write: every workflow row, every event, every remembered
 * idempotency key. Two equal snapshots mean a call wrote nothing at all.
 */
export const snapshot = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const workflows = yield* Effect.orDie(sql<Record<string, unknown>>`SELECT * FROM workflows ORDER BY id`)
  const events = yield* Effect.orDie(sql<Record<string, unknown>>`SELECT * FROM workflow_events ORDER BY seq`)
  const keys = yield* Effect.orDie(
    sql<Record<string, unknown>>`SELECT organization_id, key, request_hash, workflow_id, response, created_at
      FROM idempotency_keys ORDER BY organization_id, key`
  )
  return {
    workflows: workflows.map(normalizeWorkflow),
    events: events.map(normalizeEvent),
    idempotency_keys: keys.map((row) => ({ ...row }))
  }
})

/** Runs `effect`, which must fail, and checks the database is exactly as it was before. */
export const failsWithoutWriting = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* snapshot
    const error = yield* Effect.flip(effect)
    const after = yield* snapshot
    expect(after, "a failed call must change nothing").toEqual(before)
    return error
  })

/** Runs `effect`, which must succeed without writing anything (a no-op). */
export const succeedsWithoutWriting = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* snapshot
    const result = yield* effect
    const after = yield* snapshot
    expect(after, "a no-op must write nothing").toEqual(before)
    return result
  })

let inserted = 0

/** A unique legacy-style id (`wf_…`) or new-style id for a directly inserted row. */
export const freshId = (prefix: "wf_" | "wfl_" = "wfl_") => `${prefix}${(inserted++).toString(36).padStart(12, "0")}`

export interface InsertRow {
  readonly id?: string
  readonly organization_id?: string
  readonly title?: string
  readonly description?: string | null
  readonly status?: WorkflowStatus
  readonly node_count?: number
  readonly edge_count?: number
  readonly enrolled_leads?: number
  readonly version?: number
  readonly created_at?: string
  readonly updated_at?: string
}

export const OLD_TIME = "2020-01-02T03:04:05.678Z"

/**
 * Inserts a workflow row directly, as an older system or migration would have written it.
 * Old timestamps make any write visible in `updated_at`.
 */
export const insertWorkflow = (row: InsertRow = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const full: WorkflowRow = {
      id: row.id ?? freshId(),
      organization_id: row.organization_id ?? ORG_A,
      title: row.title ?? "Inserted workflow",
      description: row.description === undefined ? "Inserted description" : row.description,
      status: row.status ?? "active",
      node_count: row.node_count ?? 4,
      edge_count: row.edge_count ?? 3,
      enrolled_leads: row.enrolled_leads ?? 17,
      version: row.version ?? 3,
      created_at: row.created_at ?? OLD_TIME,
      updated_at: row.updated_at ?? OLD_TIME
    }
    yield* Effect.orDie(sql`INSERT INTO workflows ${sql.insert({ ...full })}`)
    return full
  })

/** Asserts an ISO-8601 UTC timestamp with milliseconds, as the record stores them. */
export const expectIsoMillis = (value: string) => expect(value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
