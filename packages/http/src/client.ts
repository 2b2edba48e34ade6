/** The remote half of the library, for programs that only call a server: no storage, no server code. */
export * as WorkflowsClient from "./client/WorkflowsClient.js"
export * as BulkFile from "./service/BulkFile.js"
export * as BulkUpdate from "./service/BulkUpdate.js"
export { Workflows } from "./service/Workflows.js"
export type {
  Caller,
  CreateOptions,
  LifecycleOptions,
  Page,
  WorkflowsService,
  WriteOptions
} from "./service/Workflows.js"
