/** The HTTP server edge: the application over a database, the Node listener, authentication and logs. */
export * from "./server/Authentication.js"
export * as PrometheusText from "./server/PrometheusText.js"
export * from "./server/RequestBody.js"
export * from "./server/RequestId.js"
export * from "./server/Server.js"
export * from "./server/ServerLog.js"
export * from "./server/Tracing.js"
export * from "./server/WorkflowsHttp.js"
