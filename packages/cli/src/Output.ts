import { type Workflow, WorkflowEvent, WorkflowJson } from "@workflows/domain"
import type { ApiKey, CreatedApiKey } from "@workflows/http/storage"
import * as DateTime from "effect/DateTime"
import * as Schema from "effect/Schema"

/** What `--json` prints: exactly the API's JSON for the same thing. */
export const json = (value: unknown): string => JSON.stringify(value, null, 2)

const encodeWorkflow = Schema.encodeSync(WorkflowJson)
const encodeEvent = Schema.encodeSync(WorkflowEvent)

export const workflowJson = (workflow: Workflow) => encodeWorkflow(workflow)
export const eventJson = (event: WorkflowEvent) => encodeEvent(event)
export const pageJson = <A, J>(
  page: { readonly data: ReadonlyArray<A>; readonly has_more: boolean },
  encode: (a: A) => J
) => ({
  data: page.data.map(encode),
  has_more: page.has_more
})

/** Code points, not UTF-16 units, so accented and astral characters align. */
const width = (text: string): number => [...text].length
const pad = (text: string, to: number): string => text + " ".repeat(Math.max(0, to - width(text)))

/** Control characters would break a table row or a terminal: show them escaped. */
const printable = (text: string): string =>
  text.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what it escapes
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
  )

/** `key  value` lines with the keys aligned; multi-line values are indented under their first line. */
export const keyValues = (rows: ReadonlyArray<readonly [string, string]>): string => {
  const keyWidth = Math.max(...rows.map(([key]) => width(key)))
  return rows
    .map(([key, value]) => {
      const [first = "", ...rest] = value.split(/\r\n|\r|\n/)
      return [
        pad(key, keyWidth) + "  " + printable(first),
        ...rest.map((line) => " ".repeat(keyWidth + 2) + printable(line))
      ].join("\n")
    })
    .join("\n")
}

/** An aligned table with a header row; the last column is not padded. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const cells = rows.map((row) => row.map(printable))
  const widths = header.map((h, i) => Math.max(width(h), ...cells.map((row) => width(row[i] ?? ""))))
  const line = (row: ReadonlyArray<string>) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i]!))).join("  ").trimEnd()
  return [line(header), ...cells.map(line)].join("\n")
}

const iso = (dt: DateTime.Utc): string => DateTime.formatIso(dt)

export const workflowBlock = (w: Workflow): string =>
  keyValues([
    ["id", w.id],
    ["title", w.title],
    ["description", w.description ?? "(none)"],
    ["status", w.status],
    ["version", String(w.version)],
    ["organization", w.organization_id],
    ["nodes", String(w.node_count)],
    ["edges", String(w.edge_count)],
    ["enrolled leads", String(w.enrolled_leads)],
    ["created", iso(w.created_at)],
    ["updated", iso(w.updated_at)]
  ])

export const workflowTable = (workflows: ReadonlyArray<Workflow>, hasMore: boolean): string => {
  if (workflows.length === 0) return "No workflows."
  const body = table(
    ["ID", "STATUS", "VERSION", "UPDATED", "TITLE"],
    workflows.map((w) => [w.id, w.status, String(w.version), iso(w.updated_at), w.title])
  )
  return hasMore ? `${body}\n(more: pass --all, or --limit)` : body
}

const changeSummary = (event: WorkflowEvent): string =>
  Object.entries(event.changes)
    .map(([field, { from, to }]) =>
      `${field}: ${from === null ? "∅" : JSON.stringify(from)} → ${to === null ? "∅" : JSON.stringify(to)}`
    )
    .join(", ")

export const eventTable = (events: ReadonlyArray<WorkflowEvent>, hasMore: boolean): string => {
  if (events.length === 0) return "No events."
  const body = table(
    ["CREATED", "TYPE", "ACTOR", "REASON", "CHANGES"],
    events.map((e) => [
      iso(e.created_at),
      e.type,
      e.actor.type === "api_key" ? e.actor.id : "system",
      e.reason ?? "",
      changeSummary(e)
    ])
  )
  return hasMore ? `${body}\n(more: pass --all, or --limit)` : body
}

export const createdKeyText = (key: CreatedApiKey): string =>
  `Created API key ${key.id} (${key.name === "" ? "unnamed" : `"${key.name}"`}) for ${key.organization_id}.\n` +
  `Store it now, it is shown only once:\n\n  ${key.key}\n`

export const keyTable = (keys: ReadonlyArray<ApiKey>): string =>
  keys.length === 0
    ? "No API keys."
    : table(
      ["ID", "ORGANIZATION", "CREATED", "REVOKED", "NAME"],
      keys.map((k) => [k.id, k.organization_id, k.created_at, k.revoked_at ?? "-", k.name])
    )

/** `keys list --json`: what anyone may see of a key, never a secret (none is stored). */
export const keyJson = (key: ApiKey) => ({
  id: key.id,
  organization_id: key.organization_id,
  name: key.name,
  created_at: key.created_at,
  revoked_at: key.revoked_at
})

/** `update --from`: the end-of-run line, `30 updated, 0 unchanged, 2 failed`. */
export const bulkSummary = (
  s: {
    readonly updated: number
    readonly unchanged: number
    readonly failed: number
    readonly would_update: number
    readonly would_fail: number
  },
  dryRun: boolean
): string =>
  dryRun
    ? `${s.would_update} would update, ${s.unchanged} unchanged, ${s.would_fail} would fail (dry run: nothing was written)`
    : `${s.updated} updated, ${s.unchanged} unchanged, ${s.failed} failed`

/** A row that failed (or would): where it is in the file, which workflow, the problem's code and detail. */
export const bulkFailure = (
  o: {
    readonly line: number
    readonly id: string
    readonly outcome: string
    readonly code?: string
    readonly message?: string
  }
): string => printable(`line ${o.line}  ${o.id}  ${o.outcome.replace("_", " ")}  ${o.code ?? ""}: ${o.message ?? ""}`)

const clock = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  return s >= 3600
    ? `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${
      String(s % 60).padStart(2, "0")
    }`
    : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`
}

/** The progress line on a terminal: a bar, rows done of all, the rate so far and the time left at that rate. */
export const bulkProgress = (done: number, total: number, elapsedMs: number): string => {
  const width = 24
  const filled = total === 0 ? width : Math.floor((done / total) * width)
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
  const eta = rate > 0 ? clock((total - done) / rate) : "–"
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} rows  ${rate.toFixed(1)}/s  ETA ${eta}`
}
