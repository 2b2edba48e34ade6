import { Effect, Random, Schema } from "effect"

/**
 * Legacy records carry `wf_…` ids and new ones `wfl_…`; both stay addressable forever,
 * so the pattern accepts either prefix.
 */
export const WORKFLOW_ID_PATTERN = /^wfl?_[A-Za-z0-9]{1,64}$/
export const ORGANIZATION_ID_PATTERN = /^org_[A-Za-z0-9_]{1,64}$/

export const WorkflowId = Schema.String.pipe(
  Schema.pattern(WORKFLOW_ID_PATTERN),
  Schema.brand("WorkflowId"),
  Schema.annotations({ identifier: "WorkflowId", examples: ["wfl_m3v7zb9rk2px" as never] })
)
export type WorkflowId = typeof WorkflowId.Type

export const isWorkflowId: (u: unknown) => u is WorkflowId = Schema.is(WorkflowId)

export const OrganizationId = Schema.String.pipe(
  Schema.pattern(ORGANIZATION_ID_PATTERN),
  Schema.brand("OrganizationId"),
  Schema.annotations({ identifier: "OrganizationId" })
)
export type OrganizationId = typeof OrganizationId.Type

export const isOrganizationId: (u: unknown) => u is OrganizationId = Schema.is(OrganizationId)

export const EventId = Schema.String.pipe(
  Schema.pattern(/^evt_[a-z0-9]{1,64}$/),
  Schema.brand("EventId"),
  Schema.annotations({ identifier: "EventId" })
)
export type EventId = typeof EventId.Type

const CHUNK = 5 // 36^5 < 2^31: five characters from each draw keeps the draws few

/** `length` random base-36 characters, drawn from Effect's `Random` so tests can seed it. */
export const randomBase36 = (length: number): Effect.Effect<string> =>
  Effect.map(
    Effect.all(Array.from({ length: Math.ceil(length / CHUNK) }, () => Random.nextIntBetween(0, 36 ** CHUNK))),
    (draws) => draws.map((n) => n.toString(36).padStart(CHUNK, "0")).join("").slice(0, length)
  )

/** `wfl_` + 12 base-36 characters: about 62 bits, ample for one organization's campaigns. */
export const makeWorkflowId: Effect.Effect<WorkflowId> = Effect.map(
  randomBase36(12),
  (suffix) => WorkflowId.make(`wfl_${suffix}`)
)

export const makeEventId: Effect.Effect<EventId> = Effect.map(
  randomBase36(16),
  (suffix) => EventId.make(`evt_${suffix}`)
)
