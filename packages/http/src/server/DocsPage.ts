import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import { WorkflowsApi } from "../api/WorkflowsApi.js"
import { DOCS_PATH } from "./RouteTemplates.js"

/**
 * The Swagger UI page (its 1.9 MB of assets inlined, so it works offline) as an app of its own.
 * This module is imported on the first request for `/docs`: loading it at start-up cost ≈ 0.12 s.
 */
export const docsApp = HttpLayerRouter.toHttpEffect(
  HttpApiSwagger.layerHttpLayerRouter({ api: WorkflowsApi, path: DOCS_PATH })
)
