import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, ManagedRuntime } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { request as httpRequest } from "node:http"
import type { TestDatabase } from "./databases.js"
import { call, type Reply } from "./fetch-support.js"
import { type LiveServer, liveServer } from "./live-server.js"
import { type InsertRow, insertWorkflow, snapshot, type WorkflowRow } from "./support.js"

/**
 * Helpers of the HTTP acceptance suite: one live server per `describe` block (shared through a
 * layer, so the suite stays fast), raw requests with full control of the headers, problem-body
 * checks and "nothing was written" checks read straight from the server's own database.
 */

export class Server extends Context.Tag("test/HttpServer")<Server, LiveServer>() {}

/** The `it` of a `withServer` block: its tests run on the live clock with the server provided. */
export interface ServerIt {
  readonly effect: <A, E>(name: string, self: () => Effect.Effect<A, E, Server>, timeout?: number) => void
}

/**
 * One real server over a fresh database for a whole `describe` block, on the live clock, started
 * before its first test and stopped after its last. Not @effect/vitest's `layer`: it assigns
 * its testers onto the shared `it`, so under `--no-isolate` every later file's `it.effect` ran on
 * a closed server's runtime (live clock, tracing off).
 */
export const withServer = (db: TestDatabase, name: string, f: (it: ServerIt) => void) =>
  describe(`${name} (${db.name})`, () => {
    const runtime = ManagedRuntime.make(Layer.scoped(Server, liveServer(db)))
    beforeAll(() => runtime.runtime())
    afterAll(() => runtime.dispose())
    f({ effect: (test, self, timeout) => it.live(test, () => Effect.provide(Effect.suspend(self), runtime), timeout) })
  })

export interface Request {
  readonly headers?: Record<string, string>
  /** Sent as JSON with `Content-Type: application/json` (unless `headers` says otherwise). */
  readonly json?: unknown
  /** Sent as is, with no Content-Type unless `headers` gives one (fetch adds none for bytes). */
  readonly raw?: string | Uint8Array
  /** The API key to send as `Bearer`; `null` sends no Authorization header. Default: org_alpha's key. */
  readonly key?: string | null
}

/** A plain `fetch` with full control of the headers; the live server's org_alpha key unless told otherwise. */
export const send = (method: string, path: string, options: Request = {}): Effect.Effect<Reply, never, Server> =>
  Effect.flatMap(
    Server,
    (server) =>
      Effect.promise(() =>
        call(server.url, method, path, { ...options, key: options.key === undefined ? server.key : options.key })
      )
  )

/**
 * A request through `node:http`, for what `fetch` cannot send: a body in chunks with no
 * Content-Length (`chunks`), or a declared Content-Length the client never sends in full.
 */
export const sendNode = (
  method: string,
  path: string,
  options: { readonly headers: Record<string, string>; readonly chunks: ReadonlyArray<string | Buffer> }
): Effect.Effect<Reply, never, Server> =>
  Effect.flatMap(Server, (server) =>
    Effect.async<Reply>((resume) => {
      const url = new URL(path, server.url)
      const started = performance.now()
      const req = httpRequest(
        url,
        { method, headers: { authorization: `Bearer ${server.key}`, ...options.headers } },
        (res) => {
          const parts: Array<Buffer> = []
          res.on("data", (chunk: Buffer) => parts.push(chunk))
          res.on("end", () => {
            const text = Buffer.concat(parts).toString("utf8")
            let body: unknown
            try {
              body = JSON.parse(text)
            } catch {
              body = undefined
            }
            const headers = new Headers()
            for (const [name, value] of Object.entries(res.headers)) {
              if (typeof value === "string") headers.set(name, value)
              else if (Array.isArray(value)) headers.set(name, value.join(", "))
            }
            resume(
              Effect.succeed({ status: res.statusCode ?? 0, headers, text, body, ms: performance.now() - started })
            )
          })
        }
      )
      // The server may answer (413) and stop reading before the body is sent in full.
      req.on("error", (error) => resume(Effect.die(error)))
      const write = (i: number): void => {
        if (i === options.chunks.length) {
          req.end()
          return
        }
        req.write(options.chunks[i]!, () => setImmediate(() => write(i + 1)))
      }
      write(0)
    }))

/** Runs `effect` against the server's own database (for the helpers of support.ts). */
export const withSql = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>): Effect.Effect<A, E, Server> =>
  Effect.flatMap(Server, (server) => Effect.provideService(effect, SqlClient.SqlClient, server.sql))

/** A workflow row inserted directly (old timestamps, version 3, active, in org_alpha by default). */
export const insert = (row: InsertRow = {}) => withSql(insertWorkflow(row))

/** Creates a workflow over HTTP and returns the response body. */
export const create = (body: Record<string, unknown> = { title: "Lead Nurture Sequence" }) =>
  Effect.map(send("POST", "/v1/workflows", { json: body }), (reply) => {
    expect(reply.status, reply.text).toBe(201)
    return reply.body as WorkflowBody
  })

/** A workflow as the API returns it: the stored row plus `name`. */
export interface WorkflowBody extends WorkflowRow {
  readonly name: string
}

/** The whole database, for "a failed request changes nothing". */
export const stored = withSql(snapshot)

/** Runs `effect` and checks the database holds exactly what it held before. */
export const writesNothing = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* stored
    const result = yield* effect
    expect(yield* stored, "the request must change nothing").toEqual(before)
    return result
  })

/** Asserts an RFC 9457 problem document with its stable code, and returns its body. */
export const expectProblem = (reply: Reply, status: number, code: string) => {
  expect(reply.status, reply.text).toBe(status)
  expect(reply.headers.get("content-type")).toMatch(/^application\/problem\+json/)
  expect(reply.headers.get("x-request-id")).toBeTruthy()
  const body = reply.body as Record<string, unknown>
  expect(body).toMatchObject({ status, code })
  expect(typeof body.type).toBe("string")
  expect(typeof body.title).toBe("string")
  expect(typeof body.detail).toBe("string")
  expect(body).not.toHaveProperty("_tag")
  return body
}

/** A 400 `validation_failed` problem; returns the `field`s of its `errors[]`, in order. */
export const expectValidation = (reply: Reply) => {
  const body = expectProblem(reply, 400, "validation_failed")
  const errors = body.errors as ReadonlyArray<{ readonly field: string | null; readonly message: string }>
  expect(Array.isArray(errors) && errors.length > 0, reply.text).toBe(true)
  for (const error of errors) expect(typeof error.message).toBe("string")
  return errors.map((e) => e.field)
}

/**
 * A third key of org_alpha inserted straight into the table (the harness keeps the ApiKeys
 * service to itself), with its id; `revoke` marks it revoked as `keys revoke` would.
 */
export const extraKey = Effect.gen(function*() {
  const server = yield* Server
  const key = `wfk_${randomBytes(16).toString("hex")}`
  const id = `key_extra${randomBytes(6).toString("hex")}`
  const hash = createHash("sha256").update(key).digest("hex")
  yield* Effect.orDie(
    server.sql`INSERT INTO api_keys ${
      server.sql.insert({ id, organization_id: "org_alpha", name: "extra", hash, created_at: new Date().toISOString() })
    }`
  )
  const revoke = Effect.orDie(server.sql`UPDATE api_keys SET revoked_at = ${new Date().toISOString()} WHERE id = ${id}`)
  return { key, id, revoke }
})
