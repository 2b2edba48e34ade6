/**
 * `workflows update --from FILE`: every row of a CSV or JSON Lines file through the typed client
 * (`BulkUpdate` of `@workflows/http`), with a report line per row and a summary. The file is read
 * and checked whole before the first request.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { BulkFile, BulkUpdate, Workflows } from "@workflows/http/client"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { RowsFailed, UsageError } from "./Failure.js"
import * as Output from "./Output.js"
import { call, type Connection } from "./Remote.js"

export interface UpdateFromFileInput extends Connection {
  readonly from: string
  readonly format: Option.Option<BulkFile.BulkFormat>
  readonly dryRun: boolean
  readonly concurrency: Option.Option<number>
  readonly report: Option.Option<string>
}

export const MAX_CONCURRENCY = 64

const usage = (message: string) => new UsageError({ message })

const readStdin: Effect.Effect<Uint8Array, UsageError> = Effect.tryPromise({
  try: async () => {
    const chunks: Array<Buffer> = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return new Uint8Array(Buffer.concat(chunks))
  },
  catch: (error) => usage(`cannot read standard input — ${String(error)}`)
})

/** The first line of a platform error, e.g. `ENOENT: no such file or directory`. */
const reasonOf = (error: { readonly message: string }) => error.message.split("\n", 1)[0]!

/** Progress on stderr when it is a terminal: rewritten in place, at most every 100 ms, cleared at the end. */
const progressMeter = (total: number) => {
  const enabled = process.stderr.isTTY === true && total > 0
  const started = Date.now()
  let shown = 0
  let visible = false
  return {
    update: (done: number) =>
      Effect.sync(() => {
        const now = Date.now()
        if (!enabled || (now - shown < 100 && done < total)) return
        shown = now
        visible = true
        process.stderr.write(`\r\x1b[2K${Output.bulkProgress(done, total, now - started)}`)
      }),
    clear: Effect.sync(() => {
      if (visible) process.stderr.write("\r\x1b[2K")
      visible = false
    })
  }
}

export const updateFromFile = (input: UpdateFromFileInput) =>
  Effect.gen(function*() {
    const concurrency = Option.getOrUndefined(input.concurrency)
    if (concurrency !== undefined && (concurrency < 1 || concurrency > MAX_CONCURRENCY)) {
      return yield* usage(`--concurrency must be between 1 and ${MAX_CONCURRENCY}`)
    }
    const format = Option.orElse(input.format, () => Option.fromNullable(BulkFile.formatOfPath(input.from)))
    if (Option.isNone(format)) {
      return yield* usage(
        input.from === "-"
          ? "--from - reads standard input: say its format with --format csv or --format jsonl"
          : `cannot tell the format of ${input.from}: name it .csv, .jsonl or .ndjson, or pass --format`
      )
    }
    const fs = yield* FileSystem.FileSystem
    const bytes = input.from === "-"
      ? yield* readStdin
      : yield* fs.readFile(input.from).pipe(Effect.mapError((e) => usage(`cannot read ${input.from} — ${reasonOf(e)}`)))
    const rows = yield* Effect.mapError(BulkFile.parseBulkFile(bytes, format.value), (e) =>
      usage(`${input.from === "-" ? "standard input" : input.from}: ${e.message}`))

    return yield* Effect.scoped(
      Effect.gen(function*() {
        // Opened before the first request: a report that cannot be written stops the run before it starts.
        const report = yield* Option.match(input.report, {
          onNone: () =>
            Effect.succeed(Option.none<FileSystem.File>()),
          onSome: (path) =>
            fs.open(path, { flag: "w" }).pipe(
              Effect.map(Option.some),
              Effect.mapError((e) => usage(`cannot write the report ${path} — ${reasonOf(e)}`))
            )
        })
        const encoder = new TextEncoder()
        const progress = progressMeter(rows.length)
        const outcomes: Array<BulkUpdate.BulkOutcome> = []

        const record = (outcome: BulkUpdate.BulkOutcome) =>
          Effect.gen(function*() {
            outcomes.push(outcome)
            const line = JSON.stringify(outcome)
            if (Option.isSome(report)) yield* Effect.orDie(report.value.writeAll(encoder.encode(`${line}\n`)))
            if (input.json || outcome.code !== undefined) {
              yield* progress.clear
              yield* Console.log(input.json ? line : Output.bulkFailure(outcome))
            }
            yield* progress.update(outcomes.length)
          })

        yield* call(input, (workflows) =>
          BulkUpdate.stream(rows, { dryRun: input.dryRun, concurrency }).pipe(
            Stream.runForEach(record),
            Effect.provideService(Workflows, workflows)
          )).pipe(Effect.ensuring(progress.clear))

        const summary = BulkUpdate.summarize(outcomes)
        const text = Output.bulkSummary(summary, input.dryRun)
        // With --json, stdout carries only the rows.
        yield* input.json ? Effect.sync(() => process.stderr.write(`${text}\n`)) : Console.log(text)
        if (BulkUpdate.someFailed(summary)) {
          return yield* new RowsFailed({
            dryRun: input.dryRun,
            total: outcomes.length,
            lines: outcomes.filter((o) => o.code !== undefined).map((o) => o.line)
          })
        }
      })
    )
  })
