import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** Expired idempotency records are purged oldest first, a batch at a time: find them by age. */
export default Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql`CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at)`
)
