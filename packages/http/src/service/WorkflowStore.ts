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
  type EventId,
  IdempotencyKeyReused,
  isWorkflowId,
  Lifecycle,
  makeWorkflow,
  type NewWorkflow,
  type OrganizationId,
  systemActor,
  unknownCursor,
  type Workflow,
  WorkflowEvent,
  type WorkflowEventType,
  type WorkflowId,
  WorkflowNotFound
} from "@workflows/domain"
import { Clock, DateTime, Effect, Either, Exit, Layer, Option } from "effect"
import { IdempotencyKeys, requestHash } from "../storage/IdempotencyKeys.js"
import { Ids } from "../storage/Ids.js"
import { lockName, makeWriteTransaction } from "../storage/Sql.js"
import { WorkflowRepository } from "../storage/WorkflowRepository.js"
import { withOperationSpan } from "./OperationSpan.js"
import { type Caller, type UncheckedWorkflows, Workflows } from "./Workflows.js"

/** An idempotency key sent with a create, and the hash of the body it came with. */
interface Retry {
  readonly key: string
  readonly hash: string
}

/**
 * Every call of `UncheckedWorkflows` with its caller as first argument. The store builds these once;
 * the HTTP server calls them with each request's caller, so serving a request builds no functions.
 */
export type WorkflowStoreCalls = {
  readonly [K in keyof UncheckedWorkflows]: (
    caller: Caller,
    ...args: Parameters<UncheckedWorkflows[K]>
  ) => ReturnType<UncheckedWorkflows[K]>
}

/**
 * The in-process implementation over the database, serving any caller: the HTTP server passes each
 * request's caller to `calls`; `forCaller` binds one caller (what `WorkflowStore.layer` gives a library user).
 */
export class WorkflowStore extends Effect.Service<WorkflowStore>()("@workflows/WorkflowStore", {
  effect: Effect.gen(function*() {
    const repository = yield* WorkflowRepository
    const idempotency = yield* IdempotencyKeys
    const ids = yield* Ids
    const sql = yield* SqlClient.SqlClient
    const calls = makeCalls({ repository, idempotency, ids, sql, writeTransaction: makeWriteTransaction(sql) })
    return {
      calls,
      forCaller: (caller: Caller): UncheckedWorkflows => bindCaller(calls, caller)
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

const bindCaller = (calls: WorkflowStoreCalls, caller: Caller): UncheckedWorkflows => ({
  create: (body, options) => calls.create(caller, body, options),
  get: (id) => calls.get(caller, id),
  list: (query) => calls.list(caller, query),
  update: (id, patch, options) => calls.update(caller, id, patch, options),
  activate: (id, options) => calls.activate(caller, id, options),
  pause: (id, options) => calls.pause(caller, id, options),
  resume: (id, options) => calls.resume(caller, id, options),
  cancel: (id, options) => calls.cancel(caller, id, options),
  complete: (id, options) => calls.complete(caller, id, options),
  events: (id, query) => calls.events(caller, id, query)
})

/** A change judged to be made: the new record, what changed, and the audit event's type. */
interface Changed {
  readonly workflow: Workflow
  readonly changes: Changes
  readonly type: WorkflowEventType
}

interface Storage {
  readonly repository: WorkflowRepository
  readonly idempotency: IdempotencyKeys
  readonly ids: Ids
  readonly sql: SqlClient.SqlClient
  readonly writeTransaction: ReturnType<typeof makeWriteTransaction>
}

/*
 * The synchronous checks answer with an `Exit` rather than an `Either`: a generator yields an
 * `Exit` without a runtime step, an `Either` costs two.
 */

/** Ids outside the id pattern get the same answer as ids that do not exist. */
const asId = (id: string): Exit.Exit<WorkflowId, WorkflowNotFound> =>
  isWorkflowId(id) ? Exit.succeed(id) : Exit.fail(new WorkflowNotFound({ id }))

/** The workflow found, or the answer for one that does not exist (under the id as the caller gave it). */
const orNotFound = (found: Option.Option<Workflow>, id: string): Exit.Exit<Workflow, WorkflowNotFound> =>
  Option.isSome(found) ? Exit.succeed(found.value) : Exit.fail(new WorkflowNotFound({ id }))

const makeCalls = ({ idempotency, ids, repository, sql, writeTransaction }: Storage): WorkflowStoreCalls => {
  const eventOf = (id: EventId, caller: Caller, { changes, type, workflow }: Changed, reason: string | null) =>
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

  /** Inside a write transaction: the record and its audit event land together or not at all. */
  const save = (caller: Caller, changed: Changed, reason: string | null) =>
    Effect.flatMap(
      ids.eventId,
      (id) => repository.replaceWithEvent(changed.workflow, eventOf(id, caller, changed, reason))
    )

  /** The new workflow, under the write lock; a retry of a remembered key gets the first answer instead. */
  const insertNew = Effect.fnUntraced(
    function*(
      caller: Caller,
      input: NewWorkflow,
      retry: Retry | undefined,
      replay: Effect.Effect<Option.Option<Workflow>, IdempotencyKeyReused>
    ) {
      const organization = caller.organization_id
      if (retry !== undefined) {
        // Two retries racing on different instances must not both create: the second waits here.
        yield* lockName(sql, `idempotency:${organization}:${retry.key}`)
        const remembered = yield* replay
        if (Option.isSome(remembered)) return remembered.value
      }
      const now = yield* DateTime.now
      const { changes, workflow } = makeWorkflow(input, {
        id: yield* ids.workflowId,
        organization_id: organization,
        now
      })
      yield* repository.insert(workflow)
      yield* repository.appendEvent(
        eventOf(yield* ids.eventId, caller, { workflow, changes, type: "workflow.created" }, null)
      )
      if (retry !== undefined) yield* idempotency.remember(organization, retry.key, retry.hash, workflow)
      return workflow
    },
    (effect) => writeTransaction(effect)
  )

  const create = Effect.fnUntraced(function*(
    caller: Caller,
    body: unknown,
    options: { readonly idempotency_key?: string | undefined } = {}
  ) {
    const organization = caller.organization_id
    const key = yield* decodeIdempotencyKey(options.idempotency_key, body)
    const retry: Retry | undefined = key === undefined ? undefined : { key, hash: requestHash(body) }
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
    return yield* insertNew(caller, decoded.right, retry, replay)
  })

  const get: WorkflowStoreCalls["get"] = (caller, id) =>
    Effect.flatMap(
      asId(id),
      (wid) => Effect.flatMap(repository.find(caller.organization_id, wid), (found) => orNotFound(found, id))
    )

  const list = Effect.fnUntraced(function*(caller: Caller, input: unknown = {}) {
    const query = yield* decodeListQuery(input, { status: true })
    const page = yield* repository.list(caller.organization_id, query)
    return yield* Option.match(page, { onNone: () => Effect.fail(unknownCursor), onSome: Effect.succeed })
  })

  /**
   * A change to one workflow, under the write lock: read it, check `If-Match`, let `decide` judge it
   * at the current time, and write the new record with its audit event unless nothing changed
   * (`undefined`).
   */
  const change = Effect.fnUntraced(
    // One generator function for every call (`fnUntraced`): a generator function made per call
    // costs V8 a new prototype and hidden class each time, allocated straight into the old generation.
    function*<E>(
      caller: Caller,
      id: WorkflowId,
      ifMatch: string | undefined,
      reason: string | null,
      decide: (current: Workflow, at: DateTime.Utc) => Either.Either<Changed | undefined, E>
    ) {
      const current = yield* orNotFound(yield* repository.findForWrite(caller.organization_id, id), id)
      // `DateTime.now` maps over the clock: a step more.
      const at = DateTime.unsafeMake(yield* Clock.currentTimeMillis)
      const changed = yield* Exit.fromEither(
        Either.flatMap(checkIfMatch(ifMatch, current.version), () => decide(current, at))
      )
      if (changed === undefined) return current
      yield* save(caller, changed, reason)
      return changed.workflow
    },
    (effect) => writeTransaction(effect)
  )

  /** Called when the operation runs (see `withOperationSpan`): the checks before the lock are plain code. */
  const update: WorkflowStoreCalls["update"] = (caller, id, body, options = {}) => {
    const patch = decodePatch(body)
    if (Either.isLeft(patch)) return Effect.fail(patch.left)
    if (!isWorkflowId(id)) return Effect.fail(new WorkflowNotFound({ id }))
    return change(
      caller,
      id,
      options.if_match,
      null,
      (current, at) =>
        Either.map(applyPatch(current, patch.right, at), (outcome) =>
          outcome._tag === "Unchanged"
            ? undefined
            : { workflow: outcome.workflow, changes: outcome.changes, type: "workflow.updated" })
    )
  }

  const lifecycle = (action: Lifecycle.LifecycleAction): WorkflowStoreCalls[Lifecycle.LifecycleAction] => {
    const name = `Workflows.${action}`
    /** As `update`: called when the operation runs. */
    const call: WorkflowStoreCalls[Lifecycle.LifecycleAction] = (caller, id, options = {}) => {
      const request = decodeLifecycleRequest(options.body)
      if (Either.isLeft(request)) return Effect.fail(request.left)
      if (!isWorkflowId(id)) return Effect.fail(new WorkflowNotFound({ id }))
      return change(caller, id, options.if_match, request.right.reason, (current, at) =>
        Either.map(
          Lifecycle.apply(current, action, at),
          (outcome) => outcome._tag === "Unchanged" ? undefined : outcome
        ))
    }
    return (caller, id, options) => withOperationSpan(() => call(caller, id, options), name, caller.organization_id, id)
  }

  const events = Effect.fnUntraced(function*(caller: Caller, id: string, input: unknown = {}) {
    const query = yield* decodeListQuery(input, { status: false })
    const workflow = yield* get(caller, id)
    const page = yield* repository.events(workflow.id, query)
    return yield* Option.match(page, { onNone: () => Effect.fail(unknownCursor), onSome: Effect.succeed })
  })

  return {
    create: (caller, body, options) =>
      withOperationSpan(() => create(caller, body, options), "Workflows.create", caller.organization_id),
    get: (caller, id) => withOperationSpan(() => get(caller, id), "Workflows.get", caller.organization_id, id),
    list: (caller, query) => withOperationSpan(() => list(caller, query), "Workflows.list", caller.organization_id),
    update: (caller, id, patch, options) =>
      withOperationSpan(() => update(caller, id, patch, options), "Workflows.update", caller.organization_id, id),
    activate: lifecycle("activate"),
    pause: lifecycle("pause"),
    resume: lifecycle("resume"),
    cancel: lifecycle("cancel"),
    complete: lifecycle("complete"),
    events: (caller, id, query) =>
      withOperationSpan(() => events(caller, id, query), "Workflows.events", caller.organization_id, id)
  }
}
