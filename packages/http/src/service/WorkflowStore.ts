import { SqlClient } from "@effect/sql"
import {
  type Actor,
  applyPatch,
  type Changes,
  checkIfMatch,
  decodeIdempotencyKey,
  decodeLifecycleRequest,
  decodeListQuery,
  decodeNewWorkflow,
  decodePatch,
  IdempotencyKeyReused,
  isWorkflowId,
  Lifecycle,
  makeWorkflow,
  type OrganizationId,
  systemActor,
  unknownCursor,
  type Workflow,
  WorkflowEvent,
  type WorkflowEventType,
  type WorkflowId,
  WorkflowNotFound
} from "@workflows/domain"
import { DateTime, Effect, Either, Layer, Option } from "effect"
import { IdempotencyKeys, requestHash } from "../storage/IdempotencyKeys.js"
import { Ids } from "../storage/Ids.js"
import { lockName, makeWriteTransaction } from "../storage/Sql.js"
import { WorkflowRepository } from "../storage/WorkflowRepository.js"
import { withOperationSpan } from "./OperationSpan.js"
import { type Caller, type LifecycleCall, type UncheckedWorkflows, Workflows } from "./Workflows.js"

/**
 * The in-process implementation over the database, serving any caller. The HTTP server asks it
 * for one `UncheckedWorkflows` per request (`forCaller`); a library user gets one through `WorkflowStore.layer`.
 */
export class WorkflowStore extends Effect.Service<WorkflowStore>()("@workflows/WorkflowStore", {
  effect: Effect.gen(function*() {
    const repository = yield* WorkflowRepository
    const idempotency = yield* IdempotencyKeys
    const ids = yield* Ids
    const sql = yield* SqlClient.SqlClient
    const writeTransaction = makeWriteTransaction(sql)
    return {
      forCaller: (caller: Caller): UncheckedWorkflows =>
        makeApi(caller, { repository, idempotency, ids, sql, writeTransaction })
    }
  }),
  dependencies: [WorkflowRepository.Default, IdempotencyKeys.Default, Ids.Default]
}) {
  /**
   * `Workflows` in-process, for one organization: what another service provides to run programs
   * against the database directly. Changes are recorded with the system as actor unless one is given.
   */
  static readonly layer = (caller: { readonly organization_id: OrganizationId; readonly actor?: Actor }) =>
    Layer.effect(
      Workflows,
      Effect.map(
        WorkflowStore,
        (store) =>
          store.forCaller({
            organization_id: caller.organization_id,
            actor: caller.actor ?? systemActor,
            request_id: null
          })
      )
    )
}

interface Storage {
  readonly repository: WorkflowRepository
  readonly idempotency: IdempotencyKeys
  readonly ids: Ids
  readonly sql: SqlClient.SqlClient
  readonly writeTransaction: ReturnType<typeof makeWriteTransaction>
}

const makeApi = (
  caller: Caller,
  { idempotency, ids, repository, sql, writeTransaction }: Storage
): UncheckedWorkflows => {
  const organization = caller.organization_id

  /** Ids outside the id pattern get the same answer as ids that do not exist. */
  const asId = (id: string): Effect.Effect<WorkflowId, WorkflowNotFound> =>
    isWorkflowId(id) ? Effect.succeed(id) : Effect.fail(new WorkflowNotFound({ id }))

  const loadForWrite = (id: WorkflowId) =>
    Effect.flatMap(
      repository.findForWrite(organization, id),
      Option.match({
        onNone: () => Effect.fail(new WorkflowNotFound({ id })),
        onSome: Effect.succeed
      })
    )

  const event = (workflow: Workflow, type: WorkflowEventType, changes: Changes, reason: string | null) =>
    Effect.map(ids.eventId, (id) =>
      new WorkflowEvent({
        id,
        workflow_id: workflow.id,
        organization_id: workflow.organization_id,
        type,
        actor: caller.actor,
        request_id: caller.request_id,
        reason,
        changes,
        created_at: workflow.updated_at
      }, true) // validated when encoded for storage
    )

  /** The record and its audit event land together or not at all. */
  const save = (workflow: Workflow, type: WorkflowEventType, changes: Changes, reason: string | null) =>
    Effect.zipRight(
      repository.replace(workflow),
      Effect.flatMap(event(workflow, type, changes, reason), repository.appendEvent)
    )

  const create: UncheckedWorkflows["create"] = (body, options = {}) =>
    Effect.gen(function*() {
      const key = yield* decodeIdempotencyKey(options.idempotency_key, body)
      const retry = key === undefined ? undefined : { key, hash: requestHash(body) }
      /** The first response to this key, again; a different body under it is a 422. */
      const replay: Effect.Effect<Option.Option<Workflow>, IdempotencyKeyReused> = retry === undefined
        ? Effect.succeedNone
        : Effect.flatMap(
          idempotency.find(organization, retry.key),
          Option.match({
            onNone: () => Effect.succeedNone,
            onSome: (remembered) =>
              remembered.request_hash === retry.hash
                ? Effect.succeedSome(remembered.workflow)
                : Effect.fail(new IdempotencyKeyReused({ key: retry.key }))
          })
        )
      // Decoded before any lock, consulted after the key's lookup (a remembered key answers first):
      // an invalid body is answered without waiting for, or taking, the write lock.
      const decoded = yield* Effect.either(decodeNewWorkflow(body))
      if (Either.isLeft(decoded)) {
        const remembered = yield* replay
        return Option.isSome(remembered) ? remembered.value : yield* Effect.fail(decoded.left)
      }
      return yield* writeTransaction(
        Effect.gen(function*() {
          if (retry !== undefined) {
            // Two retries racing on different instances must not both create: the second waits here.
            yield* lockName(sql, `idempotency:${organization}:${retry.key}`)
            const remembered = yield* replay
            if (Option.isSome(remembered)) return remembered.value
          }
          const now = yield* DateTime.now
          const { changes, workflow } = makeWorkflow(decoded.right, {
            id: yield* ids.workflowId,
            organization_id: organization,
            now
          })
          yield* repository.insert(workflow)
          yield* Effect.flatMap(event(workflow, "workflow.created", changes, null), repository.appendEvent)
          if (retry !== undefined) yield* idempotency.remember(organization, retry.key, retry.hash, workflow)
          return workflow
        })
      )
    })

  const get: UncheckedWorkflows["get"] = (id) =>
    Effect.flatMap(asId(id), (wid) =>
      Effect.flatMap(
        repository.find(organization, wid),
        Option.match({
          onNone: () => Effect.fail(new WorkflowNotFound({ id })),
          onSome: Effect.succeed
        })
      ))

  const list: UncheckedWorkflows["list"] = (input = {}) =>
    Effect.gen(function*() {
      const query = yield* decodeListQuery(input, { status: true })
      const page = yield* repository.list(organization, query)
      return yield* Option.match(page, { onNone: () => Effect.fail(unknownCursor), onSome: Effect.succeed })
    })

  const update: UncheckedWorkflows["update"] = (id, body, options = {}) =>
    Effect.gen(function*() {
      const patch = yield* decodePatch(body)
      const wid = yield* asId(id)
      return yield* writeTransaction(
        Effect.gen(function*() {
          const current = yield* loadForWrite(wid)
          yield* checkIfMatch(options.if_match, current.version)
          const outcome = yield* applyPatch(current, patch, yield* DateTime.now)
          if (outcome._tag === "Unchanged") return current
          yield* save(outcome.workflow, "workflow.updated", outcome.changes, null)
          return outcome.workflow
        })
      )
    })

  const lifecycle = (action: Lifecycle.LifecycleAction): LifecycleCall<unknown> => (id, options = {}) =>
    Effect.gen(function*() {
      const { reason } = yield* decodeLifecycleRequest(options.body)
      const wid = yield* asId(id)
      return yield* writeTransaction(
        Effect.gen(function*() {
          const current = yield* loadForWrite(wid)
          yield* checkIfMatch(options.if_match, current.version)
          const outcome = yield* Lifecycle.apply(current, action, yield* DateTime.now)
          if (outcome._tag === "Unchanged") return current
          yield* save(outcome.workflow, outcome.type, outcome.changes, reason)
          return outcome.workflow
        })
      )
    })

  const events: UncheckedWorkflows["events"] = (id, input = {}) =>
    Effect.gen(function*() {
      const query = yield* decodeListQuery(input, { status: false })
      const workflow = yield* get(id)
      const page = yield* repository.events(workflow.id, query)
      return yield* Option.match(page, { onNone: () => Effect.fail(unknownCursor), onSome: Effect.succeed })
    })

  /** Each call is a span named after its operation (`Workflows.update`) when a tracer is on. */
  const span = <A, E>(effect: Effect.Effect<A, E>, operation: string, id?: string) =>
    withOperationSpan(
      effect,
      `Workflows.${operation}`,
      () =>
        id === undefined ? { "organization.id": organization } : { "organization.id": organization, "workflow.id": id }
    )
  const traced = (action: Lifecycle.LifecycleAction): LifecycleCall<unknown> => {
    const call = lifecycle(action)
    return (id, options) => span(call(id, options), action, id)
  }

  return {
    create: (body, options) => span(create(body, options), "create"),
    get: (id) => span(get(id), "get", id),
    list: (query) => span(list(query), "list"),
    update: (id, patch, options) => span(update(id, patch, options), "update", id),
    activate: traced("activate"),
    pause: traced("pause"),
    resume: traced("resume"),
    cancel: traced("cancel"),
    complete: traced("complete"),
    events: (id, query) => span(events(id, query), "events", id)
  }
}
