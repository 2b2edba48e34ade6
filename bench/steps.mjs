#!/usr/bin/env node
// `npm run bench:steps`: where a PATCH's time goes below the HTTP layer, in-process, on a temp
// SQLite file. Each step runs in a tight loop after a warm-up; the figure is the median of several
// batches, in µs per call, with the bytes allocated per call (from V8's heap statistics around
// each collection: garbage included, steady under load where timings are not) and the runtime
// steps one call takes (Effect operations the fiber runs: exact, whatever the machine). Beside our
// service calls it times the same SQL done with bare better-sqlite3 (the floor every
// implementation pays), a statement through @effect/sql and an empty write transaction on their own.
// Prints a Markdown table. Not part of `npm test`; run `npm run build` first.
//
// Flags: --iterations N (3000 per batch)  --batches N (5)  --json
import { SqlClient } from "@effect/sql"
import { OrganizationId } from "@workflows/domain"
import { ApiKeys, Sql, WorkflowRepository, WorkflowStore } from "@workflows/http"
import Database from "better-sqlite3"
import { Effect, Layer, Scheduler } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { GCProfiler, getHeapStatistics } from "node:v8"

const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}
const ITERATIONS = flag("iterations", 3000)
const BATCHES = flag("batches", 5)
const JSON_OUTPUT = process.argv.includes("--json")

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-steps-"))
const filename = path.join(dir, "steps.db")
const organization = OrganizationId.make("org_default")
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
let calls = 0 // every call gets a fresh number, so patches always change something and ids never repeat

/** Bytes allocated on the heap while `stop` is pending: growth between collections, summed. */
const countAllocation = () => {
  const profiler = new GCProfiler()
  const start = getHeapStatistics().used_heap_size
  profiler.start()
  return () => {
    const end = getHeapStatistics().used_heap_size
    let bytes = 0
    let after = start
    for (const gc of profiler.stop().statistics) {
      bytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after)
      after = gc.afterGC.heapStatistics.usedHeapSize
    }
    return bytes + Math.max(0, end - after)
  }
}

/**
 * The runtime steps `effect` takes: the fiber asks its scheduler whether to yield once per
 * operation, so a scheduler that counts the questions counts the operations. Counted from a
 * fresh turn of the run loop (after a yield), so that the fiber's own yield every 2,048
 * operations cannot fall inside the count (a request's fiber in `serve` starts fresh too), and
 * without the steps of installing the counting scheduler (`Effect.void` counts 1).
 */
const countSteps = (effect) => {
  let steps = 0
  const scheduler = Scheduler.defaultScheduler
  const counting = {
    scheduleTask: (task, priority) => scheduler.scheduleTask(task, priority),
    shouldYield: (fiber) => (steps++, scheduler.shouldYield(fiber))
  }
  const count = (effect) =>
    Effect.suspend(() => {
      steps = 0
      return Effect.zipRight(
        Effect.zipRight(Effect.yieldNow(), Effect.withScheduler(effect, counting)),
        Effect.sync(() => steps)
      )
    })
  return Effect.zipWith(count(effect), count(Effect.void), (total, overhead) => total - (overhead - 1))
}

/** [µs per call, KB allocated per call, runtime steps per call] of `run(i)` (an Effect), medians over batches. */
const timeEffect = (run) =>
  Effect.gen(function*() {
    for (let i = 0; i < ITERATIONS; i++) yield* run(calls++)
    const steps = yield* countSteps(run(calls++))
    const batches = []
    const kb = []
    for (let b = 0; b < BATCHES; b++) {
      const stop = countAllocation()
      const started = performance.now()
      for (let i = 0; i < ITERATIONS; i++) yield* run(calls++)
      batches.push(((performance.now() - started) * 1000) / ITERATIONS)
      kb.push(stop() / 1024 / ITERATIONS)
    }
    return [median(batches), median(kb), steps]
  })

const timeSync = (run) => {
  for (let i = 0; i < ITERATIONS; i++) run(calls++)
  const batches = []
  const kb = []
  for (let b = 0; b < BATCHES; b++) {
    const stop = countAllocation()
    const started = performance.now()
    for (let i = 0; i < ITERATIONS; i++) run(calls++)
    batches.push(((performance.now() - started) * 1000) / ITERATIONS)
    kb.push(stop() / 1024 / ITERATIONS)
  }
  return [median(batches), median(kb)]
}

const ours = Effect.gen(function*() {
  const store = yield* WorkflowStore
  const keys = yield* ApiKeys
  const repository = yield* WorkflowRepository
  const sql = yield* SqlClient.SqlClient
  const writeTransaction = Sql.makeWriteTransaction(sql)
  const key = yield* keys.create(organization, "steps")
  const workflows = store.forCaller({
    organization_id: organization,
    actor: { type: "api_key", id: key.id },
    request_id: "req_steps"
  })
  const workflow = yield* workflows.create({ title: "Steps", status: "active" })
  const patch = (i) => (i % 2 ? { title: `Steps ${i}` } : { description: `Updated ${i}` })
  return [
    [
      "service: update (PATCH below HTTP: read, rules, write, audit event)",
      yield* timeEffect((i) => workflows.update(workflow.id, patch(i)))
    ],
    ["service: get", yield* timeEffect(() => workflows.get(workflow.id))],
    ["API key lookup (authenticate)", yield* timeEffect(() => keys.authenticate(key.key))],
    ["@effect/sql: one statement (SELECT 1, through our SQLite client)", yield* timeEffect(() => sql`SELECT 1`)],
    [
      "write transaction: empty (BEGIN IMMEDIATE … COMMIT)",
      yield* timeEffect(() => writeTransaction(Effect.void))
    ],
    [
      "repository: read for write, in a write transaction",
      yield* timeEffect(() => writeTransaction(repository.findForWrite(organization, workflow.id)))
    ]
  ]
}).pipe(
  Effect.provide(
    Layer.mergeAll(WorkflowStore.Default, ApiKeys.Default, WorkflowRepository.Default).pipe(
      Layer.provideMerge(Sql.layer(Sql.Database.Sqlite({ filename })))
    )
  ),
  // As in `workflows serve`: no tracer is configured, so no spans are made.
  Effect.withTracerEnabled(false)
)

/** The same statements as a PATCH, with bare better-sqlite3 on the same file: the floor. */
const floor = () => {
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.pragma("foreign_keys = ON")
  const { hash } = db.prepare("SELECT hash FROM api_keys LIMIT 1").get()
  const { id } = db.prepare("SELECT id FROM workflows LIMIT 1").get()
  const statements = {
    key: db.prepare("SELECT id, organization_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL"),
    begin: db.prepare("BEGIN IMMEDIATE"),
    find: db.prepare("SELECT * FROM workflows WHERE id = ? AND organization_id = ?"),
    update: db.prepare(
      "UPDATE workflows SET title = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? RETURNING id"
    ),
    event: db.prepare(
      `INSERT INTO workflow_events (id, workflow_id, organization_id, type, actor, request_id, reason, changes, created_at)
      VALUES (?, ?, ?, 'workflow.updated', '{"type":"system"}', NULL, NULL, ?, ?)`
    ),
    commit: db.prepare("COMMIT")
  }
  const write = (i) => {
    statements.begin.run()
    const current = statements.find.get(id, organization)
    const now = new Date().toISOString()
    statements.update.get(`Floor ${i}`, current.version + 1, now, id, current.version)
    statements.event.run(
      `evt_floor${i.toString(36)}`,
      id,
      organization,
      JSON.stringify({ title: { from: current.title, to: `Floor ${i}` } }),
      now
    )
    statements.commit.run()
  }
  const rows = [
    [
      "better-sqlite3: key lookup + the PATCH transaction (the floor)",
      timeSync((i) => (statements.key.get(hash), write(i)))
    ],
    ["better-sqlite3: key lookup", timeSync(() => statements.key.get(hash))]
  ]
  db.close()
  return rows
}

try {
  const rows = [...(await Effect.runPromise(ours)), ...floor()]
  if (JSON_OUTPUT) {
    console.log(
      JSON.stringify(
        Object.fromEntries(
          rows.map((
            [name, [us, kb, steps]]
          ) => [name, { us: Math.round(us * 10) / 10, kb: Math.round(kb * 10) / 10, steps }])
        )
      )
    )
  } else {
    console.log(
      `In-process cost per call, µs (median of ${BATCHES} batches of ${ITERATIONS}; Node ${process.version}, ${os.cpus().length} CPUs)\n`
    )
    console.log("| step | µs | KB allocated | runtime steps |\n|---|---:|---:|---:|")
    for (const [name, [us, kb, steps]] of rows) {
      console.log(`| ${name} | ${us.toFixed(1)} | ${kb.toFixed(1)} | ${steps ?? "(not Effect)"} |`)
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
