import { Schema } from "effect"
import type { OrganizationId } from "./WorkflowId.js"

/** An API key's public id (the audit trail's actor id for calls made with it). */
export const ApiKeyId = Schema.String.pipe(Schema.pattern(/^key_[a-z0-9]{1,64}$/), Schema.brand("ApiKeyId"))
export type ApiKeyId = typeof ApiKeyId.Type

/** The caller behind a valid key: its organization and the key's id (the audit trail's actor). */
export interface Principal {
  readonly organization_id: OrganizationId
  readonly key_id: ApiKeyId
}
