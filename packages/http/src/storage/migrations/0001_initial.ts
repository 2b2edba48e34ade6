import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The schema runs unchanged on SQLite and PostgreSQL: timestamps are ISO-8601 UTC text with
 * milliseconds (so text order is time order), JSON columns are text. The only dialect
 * difference is how the event sequence is generated.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const sequence = sql.onDialectOrElse({
    pg: () => sql.literal("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
    orElse: () => sql.literal("INTEGER PRIMARY KEY AUTOINCREMENT")
  })

  yield* sql`CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  )`

  yield* sql`CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  )`

  yield* sql`CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    node_count INTEGER NOT NULL DEFAULT 0,
    edge_count INTEGER NOT NULL DEFAULT 0,
    enrolled_leads INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX workflows_by_organization ON workflows (organization_id, created_at DESC, id DESC)`

  yield* sql`CREATE TABLE workflow_events (
    seq ${sequence},
    id TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    organization_id TEXT NOT NULL,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    request_id TEXT,
    reason TEXT,
    changes TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX workflow_events_by_workflow ON workflow_events (workflow_id, seq DESC)`

  yield* sql`CREATE TABLE idempotency_keys (
    organization_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (organization_id, key)
  )`
})
