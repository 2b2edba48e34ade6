import { Schema } from "effect"
import { guard } from "./Guard.js"

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

export const isWorkflowId: (u: unknown) => u is WorkflowId = guard(WorkflowId)

export const OrganizationId = Schema.String.pipe(
  Schema.pattern(ORGANIZATION_ID_PATTERN),
  Schema.brand("OrganizationId"),
  Schema.annotations({ identifier: "OrganizationId" })
)
export type OrganizationId = typeof OrganizationId.Type

export const isOrganizationId: (u: unknown) => u is OrganizationId = guard(OrganizationId)

export const EventId = Schema.String.pipe(
  Schema.pattern(/^evt_[a-z0-9]{1,64}$/),
  Schema.brand("EventId"),
  Schema.annotations({ identifier: "EventId" })
)
export type EventId = typeof EventId.Type

/**
 * `n` uniformly random bytes, read before the next call (they may be a view of a pool that is
 * refilled). The program draws them from `node:crypto`; tests may pass a fixed sequence.
 */
export type RandomBytes = (n: number) => Uint8Array

const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
const UNBIASED_BELOW = 252 // 7 × 36: a byte at or above it would favour the first characters, so it is skipped

/** `length` base-36 characters, each equally likely, from `randomBytes`. */
export const base36 = (length: number, randomBytes: RandomBytes): string => {
  let out = ""
  while (out.length < length) {
    const bytes = randomBytes(length - out.length + 2)
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      if (bytes[i]! < UNBIASED_BELOW) out += BASE36[bytes[i]! % 36]
    }
  }
  return out
}

/**
 * `wfl_` + 12 base-36 characters: about 62 bits. Ids are unique across all organizations, so
 * collisions follow the birthday bound over the whole table (about 1 in 100,000 among ten million ids).
 */
export const newWorkflowId = (randomBytes: RandomBytes): WorkflowId =>
  WorkflowId.make(`wfl_${base36(12, randomBytes)}`, true)

/** `evt_` + 16 base-36 characters: about 82 bits. */
export const newEventId = (randomBytes: RandomBytes): EventId => EventId.make(`evt_${base36(16, randomBytes)}`, true)
