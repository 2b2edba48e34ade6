/** The remote half of the library, for programs that only call a server: no storage, no server code. */
export { Workflows } from "./Workflows.js"
export type { Caller, CreateOptions, LifecycleOptions, Page, WorkflowsService, WriteOptions } from "./Workflows.js"
export * as WorkflowsClient from "./WorkflowsClient.js"
export * as BulkFile from "./BulkFile.js"
export * as BulkUpdate from "./BulkUpdate.js"
