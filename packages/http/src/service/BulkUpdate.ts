/**
 * A bulk update: many rows (id, optional version, fields to change) through `Workflows`, in-process
 * or over HTTP alike, with bounded concurrency, retries of transient failures, and one outcome per
 * row in input order. Each row's workflow is read and the row judged with the domain's own rules
 * (`decodePatch`, `applyPatch`); a dry run stops there, a run sends the rows that change something.
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import {
  applyPatch,
  checkIfMatch,
  decodePatch,
  etagOf,
  PatchOutcome,
  type Workflow,
  WorkflowNotFound,
  WorkflowPatch,
  type WorkflowPreconditionFailed,
  type WorkflowStatusConflict,
  type WorkflowValidationError
} from "@workflows/domain"
import { Cause, Chunk, DateTime, Effect, Either, Option, Schedule, Schema, Stream } from "effect"
import { type ProblemCode, problemOf, ServiceUnavailable } from "../api/Problem.js"
import type { BulkRow } from "./BulkFile.js"
import { isTransientFailure } from "./TransientFailure.js"
import { Workflows, type WorkflowsService } from "./Workflows.js"

export type BulkOutcomeKind = "updated" | "unchanged" | "failed" | "would_update" | "would_fail"

/** What became of one row; `code` and `message` (the problem's) only when it failed or would. */
export interface BulkOutcome {
  readonly line: number
  readonly id: string
  readonly outcome: BulkOutcomeKind
  /** The workflow's version once the row is done (in a dry run: as read); `null` when there is none. */
  readonly version: number | null
  readonly code?: ProblemCode
  readonly message?: string
}

export interface BulkOptions {
  /** Read and judge each row, write nothing. */
  readonly dryRun?: boolean | undefined
  /** Rows in flight at once (default 8). */
  readonly concurrency?: number | undefined
  /** When to retry a call that failed transiently (503, transport, database unavailable). */
  readonly retry?: Schedule.Schedule<unknown, Cause.Cause<unknown>> | undefined
}

export const DEFAULT_CONCURRENCY = 8

/** About 6 s of patience in five jittered, doubling steps: a server restart or failover fits in it. */
export const defaultRetry: Schedule.Schedule<unknown, Cause.Cause<unknown>> = Schedule.exponential("200 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(5))
)

type RowError = WorkflowNotFound | WorkflowValidationError | WorkflowStatusConflict | WorkflowPreconditionFailed

/**
 * "Not now" rather than "no": the server said 503 (its problem document, or a bare 503 from a proxy),
 * the request never got an answer, or (in-process) the database is unavailable. Anything else, a refused API key included, stops the run.
 */
export const isTransient = (defect: unknown): boolean =>
  defect instanceof ServiceUnavailable ||
  (HttpClientError.isHttpClientError(defect)
    ? defect._tag === "RequestError" ? defect.reason === "Transport" : defect.response.status === 503
    : isTransientFailure(defect))

// Calls fail transiently only as defects (the typed errors are answers); those are retried, the rest pass through.
const retrying =
  (schedule: Schedule.Schedule<unknown, Cause.Cause<unknown>>) =>
  <A, E>(call: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    call.pipe(
      Effect.sandbox,
      Effect.retry({
        schedule,
        while: (cause: Cause.Cause<E>) =>
          Option.isNone(Cause.failureOption(cause)) && Option.exists(Cause.dieOption(cause), isTransient)
      }),
      Effect.unsandbox
    )

const decodePatchInput = Schema.decodeUnknown(Schema.encodedSchema(WorkflowPatch))

const ifMatchOf = (row: BulkRow): string | undefined => (row.version === undefined ? undefined : etagOf(row.version))

/**
 * The service's evaluation of the row's PATCH, in its order (the body on its own, 404, If-Match,
 * then the rules against the stored record), over a workflow as read; writes nothing. One
 * difference on purpose: a row whose values already hold is `Unchanged` even when its version is
 * stale, so re-running a file after a partial run reports applied rows instead of failing them
 * (nothing is written, so nothing newer is overwritten). A row with no field to change is
 * `Unchanged` too: empty cells mean "leave alone".
 */
export const evaluateRow = (
  row: BulkRow,
  current: Option.Option<Workflow>,
  now: DateTime.Utc
): Either.Either<PatchOutcome, RowError> =>
  Either.gen(function*() {
    const patch = Object.keys(row.patch).length === 0 ? undefined : yield* decodePatch(row.patch)
    const workflow = yield* Option.match(current, {
      onNone: () => Either.left(new WorkflowNotFound({ id: row.id })),
      onSome: (w) => Either.right(w)
    })
    const applied = patch === undefined
      ? Either.right(PatchOutcome.Unchanged({ workflow }))
      : applyPatch(workflow, patch, now)
    if (Either.isRight(applied) && applied.right._tag === "Unchanged") return applied.right
    yield* checkIfMatch(ifMatchOf(row), workflow.version)
    return yield* applied
  })

const versionOfEtag = (etag: string): number | null => {
  const version = Number(etag.replace(/^"|"$/g, ""))
  return Number.isSafeInteger(version) ? version : null
}

const versionOf = (workflow: Option.Option<Workflow>): number | null =>
  Option.match(workflow, { onNone: () => null, onSome: (w) => w.version })

const failure = (
  row: BulkRow,
  outcome: "failed" | "would_fail",
  error: RowError,
  current: Option.Option<Workflow>
): BulkOutcome => {
  const problem = problemOf(error)
  const version = error._tag === "WorkflowPreconditionFailed"
    ? versionOfEtag(error.current_etag)
    : versionOf(current)
  return { line: row.line, id: row.id, outcome, version, code: problem.code, message: problem.detail }
}

const success = (
  row: BulkRow,
  outcome: "updated" | "unchanged" | "would_update",
  version: number | null
): BulkOutcome => ({
  line: row.line,
  id: row.id,
  outcome,
  version
})

const processRow = (
  workflows: WorkflowsService,
  row: BulkRow,
  options: { readonly dryRun: boolean; readonly retry: Schedule.Schedule<unknown, Cause.Cause<unknown>> }
): Effect.Effect<BulkOutcome> =>
  Effect.gen(function*() {
    const retry = retrying(options.retry)
    const current = yield* retry(workflows.get(row.id)).pipe(Effect.option)
    const local = evaluateRow(row, current, yield* DateTime.now)
    // A dry run and a run decide alike: only a row the domain's rules say changes the workflow
    // just read is sent. The service still judges that write (a change since the read makes it a
    // 412, or a no-op), and the version before tells a no-op from a change, also when a retried
    // PATCH had already landed.
    if (Either.isLeft(local)) return failure(row, options.dryRun ? "would_fail" : "failed", local.left, current)
    if (local.right._tag === "Unchanged") return success(row, "unchanged", versionOf(current))
    if (options.dryRun) return success(row, "would_update", versionOf(current))
    // The row passed decodePatch above: this only gives its fields the type the service takes.
    const patch = yield* Effect.orDie(decodePatchInput(row.patch))
    return yield* retry(workflows.update(row.id, patch, { if_match: ifMatchOf(row) })).pipe(
      Effect.map((after) =>
        success(
          row,
          Option.exists(current, (before) => before.version === after.version)
            ? "unchanged"
            : "updated",
          after.version
        )
      ),
      Effect.catchAll((error) => Effect.succeed(failure(row, "failed", error, current)))
    )
  })

/**
 * One outcome per row, in input order, as rows finish (a report can be written as it goes).
 * Fails only with a defect that stops the whole run: a refused API key, or a transient failure
 * that outlasted the retries.
 */
export const stream = (
  rows: Iterable<BulkRow>,
  options: BulkOptions = {}
): Stream.Stream<BulkOutcome, never, Workflows> => {
  const settings = { dryRun: options.dryRun ?? false, retry: options.retry ?? defaultRetry }
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY))
  return Stream.unwrap(
    Effect.map(
      Workflows,
      (workflows) =>
        Stream.fromIterable(rows).pipe(Stream.mapEffect((row) => processRow(workflows, row, settings), { concurrency }))
    )
  )
}

/** Every row's outcome, in input order. */
export const run = (
  rows: Iterable<BulkRow>,
  options: BulkOptions = {}
): Effect.Effect<ReadonlyArray<BulkOutcome>, never, Workflows> =>
  Stream.runCollect(stream(rows, options)).pipe(Effect.map(Chunk.toReadonlyArray))

export type BulkSummary = { readonly [K in BulkOutcomeKind]: number }

export const summarize = (outcomes: Iterable<BulkOutcome>): BulkSummary => {
  const summary = { updated: 0, unchanged: 0, failed: 0, would_update: 0, would_fail: 0 }
  for (const { outcome } of outcomes) summary[outcome]++
  return summary
}

/** Whether any row failed, or would in a dry run: the run as a whole did not do what the file asks. */
export const someFailed = (summary: BulkSummary): boolean => summary.failed + summary.would_fail > 0
