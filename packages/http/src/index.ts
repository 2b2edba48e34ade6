/**
 * The whole library, by layer: storage (SQLite/PostgreSQL), the `Workflows` service, the HTTP
 * contract (`api/`), the server edge and the typed client. Narrower entry points: `./client`
 * (no storage, no server), `./storage` (operators' tools), `./server`.
 */
export * from "./api/Problem.js"
export * from "./api/WorkflowsApi.js"
export * as WorkflowsClient from "./client/WorkflowsClient.js"
export * from "./server.js"
export * as BulkFile from "./service/BulkFile.js"
export * as BulkUpdate from "./service/BulkUpdate.js"
export * from "./service/Workflows.js"
export * from "./service/WorkflowStore.js"
export * from "./storage.js"
