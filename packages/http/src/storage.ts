/** Database access for operators' tools (migrations, API keys) without the HTTP server. */
export { ApiKeys } from "./ApiKeys.js"
export * as Sql from "./Sql.js"
