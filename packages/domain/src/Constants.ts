/**
 * The plain values behind the domain's rules, in a module with no dependency, so a caller that
 * must start fast (the CLI's help) can quote them without loading the schemas. The schemas are
 * built from these; nothing else restates them.
 */

/** Every status a stored record can hold, the legacy `running` included. */
export const WORKFLOW_STATUSES = ["draft", "active", "running", "paused", "completed", "cancelled"] as const

/** Bounds of the free-text fields, in Unicode code points after trimming. */
export const TITLE_MAX = 200
export const DESCRIPTION_MAX = 2000
export const REASON_MAX = 500

/** Page sizes of the lists. */
export const LIMIT_DEFAULT = 20
export const LIMIT_MAX = 100
