/** Database access without the HTTP server: migrations, API keys, the workflow tables, idempotency records. */
export * from "./storage/ApiKeys.js"
export * from "./storage/IdempotencyKeys.js"
export * from "./storage/Ids.js"
export * as Sql from "./storage/Sql.js"
export * from "./storage/WorkflowRepository.js"
