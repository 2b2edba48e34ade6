/** Remote handlers: every call goes through the typed client (`WorkflowsClient`), never hand-written HTTP. */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type {
  HttpLifecycleAction,
  ListQueryInput,
  NewWorkflowInput,
  WorkflowPatchInput,
  WorkflowStatus
} from "@workflows/domain"
import { Workflows, WorkflowsClient, type WorkflowsService } from "@workflows/http/client"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { UsageError } from "./Failure.js"
import * as Output from "./Output.js"

export interface Connection {
  readonly url: string
  readonly apiKey: Option.Option<Redacted.Redacted>
  readonly json: boolean
}

/** Runs `use` against the server named by the connection options. */
export const call = <A, E>(
  connection: Connection,
  use: (workflows: WorkflowsService) => Effect.Effect<A, E>
): Effect.Effect<A, E | UsageError> =>
  Option.match(connection.apiKey, {
    onNone: () => Effect.fail(new UsageError({ message: "no API key: pass --api-key or set WORKFLOWS_API_KEY" })),
    onSome: (apiKey) =>
      Effect.flatMap(Workflows, use).pipe(
        Effect.provide(
          WorkflowsClient.layer({ url: connection.url.replace(/\/+$/, ""), apiKey }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
  })

const print = (text: string) => Console.log(text)

const printWorkflow = (json: boolean) => (workflow: Parameters<typeof Output.workflowJson>[0]) =>
  print(json ? Output.json(Output.workflowJson(workflow)) : Output.workflowBlock(workflow))

/** `"<VERSION>"`, the ETag of that version, as the server expects in If-Match. */
const ifMatch = (version: Option.Option<number>) =>
  Option.match(version, { onNone: () => undefined, onSome: (v) => `"${v}"` })

interface Paging {
  readonly limit: Option.Option<number>
  readonly all: boolean
}

/** One page, or with `--all` every page (following `starting_after` until `has_more` is false). */
const pages = <A extends { readonly id: string }, E>(
  paging: Paging,
  fetch: (query: ListQueryInput) => Effect.Effect<{ readonly data: ReadonlyArray<A>; readonly has_more: boolean }, E>,
  query: ListQueryInput = {}
): Effect.Effect<{ readonly data: ReadonlyArray<A>; readonly has_more: boolean }, E> =>
  Effect.gen(function*() {
    const base: ListQueryInput = { ...query, ...(Option.isSome(paging.limit) ? { limit: paging.limit.value } : {}) }
    let page = yield* fetch(base)
    if (!paging.all) return page
    const data = [...page.data]
    while (page.has_more && page.data.length > 0) {
      page = yield* fetch({ ...base, starting_after: page.data[page.data.length - 1]!.id })
      data.push(...page.data)
    }
    return { data, has_more: false }
  })

export const create = (
  input: Connection & {
    readonly title: string
    readonly description: Option.Option<string>
    readonly idempotencyKey: Option.Option<string>
  }
) =>
  call(input, (workflows) => {
    const body: NewWorkflowInput = {
      title: input.title,
      ...(Option.isSome(input.description) ? { description: input.description.value } : {})
    }
    return workflows.create(
      body,
      Option.isSome(input.idempotencyKey) ? { idempotency_key: input.idempotencyKey.value } : {}
    )
  }).pipe(Effect.flatMap(printWorkflow(input.json)))

export const get = (input: Connection & { readonly id: string }) =>
  call(input, (workflows) => workflows.get(input.id)).pipe(Effect.flatMap(printWorkflow(input.json)))

export const list = (input: Connection & Paging & { readonly status: Option.Option<WorkflowStatus> }) =>
  call(
    input,
    (workflows) => pages(input, workflows.list, Option.isSome(input.status) ? { status: input.status.value } : {})
  ).pipe(
    Effect.flatMap((page) =>
      print(
        input.json
          ? Output.json(Output.pageJson(page, Output.workflowJson))
          : Output.workflowTable(page.data, page.has_more)
      )
    )
  )

export const update = (
  input: Connection & {
    readonly id: string
    readonly title: Option.Option<string>
    readonly description: Option.Option<string>
    readonly clearDescription: boolean
    readonly ifMatch: Option.Option<number>
  }
) =>
  Effect.gen(function*() {
    if (input.clearDescription && Option.isSome(input.description)) {
      return yield* new UsageError({ message: "--description and --clear-description cannot be used together" })
    }
    if (Option.isNone(input.title) && Option.isNone(input.description) && !input.clearDescription) {
      return yield* new UsageError({ message: "nothing to update: pass --title, --description or --clear-description" })
    }
    const patch: WorkflowPatchInput = {
      ...(Option.isSome(input.title) ? { title: input.title.value } : {}),
      ...(Option.isSome(input.description) ? { description: input.description.value } : {}),
      ...(input.clearDescription ? { description: null } : {})
    }
    const workflow = yield* call(input, (workflows) =>
      workflows.update(input.id, patch, { if_match: ifMatch(input.ifMatch) }))
    yield* printWorkflow(input.json)(workflow)
  })

/** `update ID …` or `update --from FILE`: the options of one cannot be mixed with the other. */
export const updateCommand = (
  input: Connection & {
    readonly id: Option.Option<string>
    readonly title: Option.Option<string>
    readonly description: Option.Option<string>
    readonly clearDescription: boolean
    readonly ifMatch: Option.Option<number>
    readonly from: Option.Option<string>
    readonly format: Option.Option<"csv" | "jsonl">
    readonly dryRun: boolean
    readonly concurrency: Option.Option<number>
    readonly report: Option.Option<string>
  }
) =>
  Effect.gen(function*() {
    if (Option.isSome(input.from)) {
      const single = [
        Option.isSome(input.id) && "ID",
        Option.isSome(input.title) && "--title",
        Option.isSome(input.description) && "--description",
        input.clearDescription && "--clear-description",
        Option.isSome(input.ifMatch) && "--if-match"
      ].filter((name) => name !== false)
      if (single.length > 0) {
        return yield* new UsageError({
          message: `--from takes every change from the file (its version column does what --if-match does): drop ${
            single.join(", ")
          }`
        })
      }
      const { updateFromFile } = yield* Effect.promise(() => import("./UpdateFromFile.js"))
      return yield* updateFromFile({ ...input, from: input.from.value })
    }
    const bulkOnly = [
      Option.isSome(input.format) && "--format",
      input.dryRun && "--dry-run",
      Option.isSome(input.report) && "--report",
      Option.isSome(input.concurrency) && "--concurrency"
    ].filter((name) => name !== false)
    if (bulkOnly.length > 0) {
      return yield* new UsageError({
        message: `${bulkOnly.join(", ")} ${bulkOnly.length === 1 ? "applies" : "apply"} only with --from FILE`
      })
    }
    if (Option.isNone(input.id)) return yield* new UsageError({ message: "update needs a workflow ID, or --from FILE" })
    return yield* update({ ...input, id: input.id.value })
  })

export const lifecycle = (
  action: HttpLifecycleAction,
  input: Connection & {
    readonly id: string
    readonly reason: Option.Option<string>
    readonly ifMatch: Option.Option<number>
  }
) =>
  call(input, (workflows) =>
    workflows[action](input.id, {
      if_match: ifMatch(input.ifMatch),
      ...(Option.isSome(input.reason) ? { body: { reason: input.reason.value } } : {})
    })).pipe(Effect.flatMap(printWorkflow(input.json)))

export const events = (input: Connection & Paging & { readonly id: string }) =>
  call(input, (workflows) => pages(input, (query) => workflows.events(input.id, query))).pipe(
    Effect.flatMap((page) =>
      print(
        input.json ? Output.json(Output.pageJson(page, Output.eventJson)) : Output.eventTable(page.data, page.has_more)
      )
    )
  )
