import { describe, expect, it } from "@effect/vitest"
import { READ_ONLY_FIELDS } from "@workflows/domain"
import { Effect } from "effect"
import fc from "fast-check"
import { join } from "node:path"
import { tempDir } from "./databases.js"
import { parseResponses, rawExchange } from "./fetch-support.js"
import { call, pool, readSqlite, requireBuiltCli, serverErrors, serverResource } from "./reliability-support.js"

/**
 * docs/CONTRACT.md §2 (steps 1–3, "a failed request changes nothing"), §5 and §11: generated hostile
 * requests over real HTTP against one `workflows serve` process. Every request is built so that it
 * cannot legitimately change anything (the fixed workflow is cancelled, so lifecycle calls are 409s
 * or no-ops; every body that could be a valid edit carries an If-Match that cannot match; creates
 * never carry a valid title). Afterwards the database must be byte-for-byte what it was.
 */
requireBuiltCli()

const SEED = Number(process.env.RELIABILITY_SEED ?? 20_261_128)
const CONCURRENCY = 16
const REQUEST_TIMEOUT_MS = 10_000
const CODES = new Set([
  "unauthorized",
  "not_found",
  "validation_failed",
  "status_conflict",
  "precondition_failed",
  "payload_too_large",
  "unsupported_media_type",
  "idempotency_key_reused",
  "internal"
])
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

interface Case {
  readonly kind: string
  readonly method: string
  /** `{W}` is replaced by the fixed workflow's id. */
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: string | Uint8Array
}

// ------------------------------------------------------------------------------------------------
// Arbitraries

const printable = (options: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), ...options })

const nonString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
)
/** Unicode Cc: C0, DEL, C1. */
const controlChar = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f), fc.integer({ min: 0x80, max: 0x9f }))
  .map((c) => String.fromCharCode(c))
const longString = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.constantFrom("x", "é", "漢", "😀", "ab ")).map(([n, unit]) =>
    unit.repeat(Math.ceil(n / unit.length))
  )

/** A title (or name) the contract rejects, whatever else the body holds. */
const invalidTitle = fc.oneof(
  nonString,
  fc.constant(null),
  fc.constantFrom("", " ", "\t\n ", "\u00a0\u2003"),
  longString(201, 3_000),
  fc.tuple(fc.string({ maxLength: 10 }), controlChar, fc.string({ maxLength: 10 })).map(([a, c, b]) => `${a}x${c}x${b}`)
)
/** A description the contract rejects (null and blanks are valid: they clear it). */
const invalidDescription = fc.oneof(
  nonString,
  longString(2_001, 8_000),
  fc
    .tuple(fc.string({ maxLength: 10 }), controlChar.filter((c) => !"\n\r\t".includes(c)), fc.string({ maxLength: 10 }))
    .map(([a, c, b]) => `${a}x${c}x${b}`)
)
const anyValue = fc.oneof(nonString, fc.constant(null), fc.string({ maxLength: 30 }), printable({ maxLength: 30 }))
const EDITABLE = new Set(["title", "name", "description"])

/** Replaces every editable field's value with an invalid one: the body can never be a valid edit. */
const neutralize = (value: unknown, seed: number): unknown => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (key === "title" || key === "name") out[key] = seed % 2 === 0 ? 12_345 : ""
    else if (key === "description") out[key] = seed % 2 === 0 ? { no: true } : "x\u0001x"
    else out[key] = v
  }
  return out
}

/** Objects with every field of the contract, each with a wrong type or out-of-bounds value. */
const wrongTypes = fc.record(
  {
    title: invalidTitle,
    name: invalidTitle,
    description: invalidDescription,
    status: fc.oneof(
      anyValue,
      fc.constantFrom("draft", "active", "running", "paused", "completed", "cancelled", "ACTIVE", "")
    ),
    ...Object.fromEntries(
      READ_ONLY_FIELDS.map((
        field
      ) => [field, fc.oneof(anyValue, fc.integer({ min: -5, max: 5 }), fc.constant("2020-01-01T00:00:00.000Z"))])
    ),
    nodes: anyValue,
    edges: anyValue,
    leads: anyValue,
    reason: fc.oneof(anyValue, longString(501, 2_000))
  },
  { requiredKeys: [] }
)

/** Deeply nested JSON text (depth 1,000 to 30,000), placed as the body or a field value. */
const deep = fc
  .tuple(
    fc.integer({ min: 1_000, max: 30_000 }),
    fc.constantFrom("array", "object"),
    fc.constantFrom("body", "title", "unknown", "reason", "description")
  )
  .map(([depth, shape, where]) => {
    const nested = shape === "array"
      ? "[".repeat(depth) + "]".repeat(depth)
      : "{\"a\":".repeat(depth) + "1" + "}".repeat(depth)
    return where === "body" ? nested : `{"${where}":${nested}}`
  })

const INVALID_UTF8 = [[0xff], [0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [
  0x80
]]
const invalidUtf8 = fc.oneof(
  // JSON text with invalid bytes spliced into a string or between tokens
  fc
    .tuple(
      fc.constantFrom("title", "name", "description", "reason", "x"),
      fc.string({ maxLength: 20 }),
      fc.constantFrom(...INVALID_UTF8),
      fc.boolean()
    )
    .map(([field, text, bad, inString]) => {
      const head = Buffer.from(inString ? `{"${field}":"${text.replace(/["\\]/g, "")}` : `{"${field}":`, "utf8")
      const tail = Buffer.from(inString ? `"}` : `"v"}`, "utf8")
      return new Uint8Array(Buffer.concat([head, Buffer.from(bad), tail]))
    }),
  // random bytes, always with one byte that never occurs in UTF-8
  fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.nat()).map(([bytes, at]) => {
    const p = at % (bytes.length + 1)
    return new Uint8Array([...bytes.slice(0, p), 0xff, ...bytes.slice(p)])
  })
)

/** Raw JSON text with a repeated key; every value is invalid, so whichever one wins is rejected. */
const duplicateKeys = fc
  .tuple(
    fc.constantFrom("title", "name", "description", "status", "version", "reason", "x"),
    fc.array(fc.jsonValue({ maxDepth: 1 }), { minLength: 2, maxLength: 4 })
  )
  .map(([key, values]) =>
    `{${
      values.map((v) =>
        `"${key}":${
          JSON.stringify(EDITABLE.has(key) ? (neutralize({ [key]: v }, 0) as Record<string, unknown>)[key] : v)
        }`
      ).join(",")
    }}`
  )

const PROTO_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "__defineGetter__"
]
/** Prototype-pollution shapes: the polluting value may hold a perfectly valid title. */
const protoKeys = fc
  .tuple(
    fc.constantFrom(...PROTO_KEYS),
    fc.constantFrom(...PROTO_KEYS, "title"),
    fc.oneof(fc.constant("Polluted title"), anyValue),
    fc.boolean()
  )
  .map(([outer, inner, value, nested]) =>
    nested
      ? `{"${outer}":{"${inner}":${JSON.stringify(value)}}}`
      : `{"${outer}":${JSON.stringify(value)}${inner === "title" ? "" : `,"${inner}":{"title":"Polluted"}`}}`
  )

const CONTENT_TYPES = [
  "application/json",
  "application/merge-patch+json",
  "APPLICATION/JSON",
  "application/json; charset=utf-8",
  "application/json;charset=latin1",
  "application/json ; foo=bar",
  "application/json;;;",
  "application/jsonx",
  "application/json-patch+json",
  "text/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "*/*",
  "application/*",
  "",
  "json",
  "application/ json",
  "application/merge-patch+json; charset=utf-16"
]
const contentType = fc.oneof(fc.constantFrom(...CONTENT_TYPES), printable({ maxLength: 60 }))

/** If-Match values that cannot match the fixed workflow's ETag "2" (no 2, no *, not blank). */
const guardIfMatch = fc
  .oneof(
    fc.constantFrom(
      "\"1\"",
      "\"3\"",
      "W/\"1\"",
      "\"1\", \"3\"",
      "\"abc\"",
      "\"\"",
      "abc",
      "\"",
      "W/\"",
      "\"999999999999999999999999\"",
      "\"-1\"",
      "\"0x1\"",
      "1.0",
      "\"1 \""
    ),
    printable({ minLength: 1, maxLength: 80 })
  )
  .filter((value) => value.trim() !== "" && !/[2*]/.test(value))
const anyIfMatch = fc.oneof(
  guardIfMatch,
  printable({ maxLength: 80 }),
  fc.constantFrom("*", "\"2\"", "W/\"2\"", "\"2\", \"1\"")
)
const idempotencyKey = fc.oneof(
  printable({ maxLength: 300 }),
  fc.constantFrom("", " ", "a".repeat(256), "é", "key\twith\ttabs")
)
const requestId = fc.oneof(
  printable({ maxLength: 140 }),
  fc.constantFrom("", "ok-id.1:2", "a".repeat(128), "a".repeat(129), "white space", "ü")
)
const authorization = (key: string) =>
  fc.oneof(
    fc.constant(`Bearer ${key}`),
    fc.constantFrom(
      "Bearer",
      "Bearer ",
      `bearer ${key}`,
      `Basic ${key}`,
      `Bearer ${key}x`,
      `Bearer ${key.slice(0, -1)}`,
      "Bearer wfk_",
      `Bearer  ${key}`,
      key
    ),
    printable({ maxLength: 80 }).map((s) => `Bearer ${s}`),
    printable({ maxLength: 80 })
  )

interface Headers {
  readonly [name: string]: string
}
/**
 * Random headers for one request. `editable` bodies (which could be a valid edit) always get an
 * If-Match that cannot match; every other header may be anything.
 */
const headersFor = (key: string, editable: boolean) =>
  fc
    .record(
      {
        authorization: fc.oneof({ weight: 6, arbitrary: fc.constant(`Bearer ${key}`) }, {
          weight: 1,
          arbitrary: authorization(key)
        }),
        "content-type": fc.oneof({ weight: 5, arbitrary: fc.constant("application/json") }, {
          weight: 2,
          arbitrary: contentType
        }),
        "if-match": editable ? guardIfMatch : anyIfMatch,
        "idempotency-key": idempotencyKey,
        "x-request-id": requestId
      },
      { requiredKeys: editable ? ["authorization", "content-type", "if-match"] : ["authorization", "content-type"] }
    )
    .map((headers): Headers => headers as Headers)

const LIFECYCLE = ["activate", "pause", "resume", "cancel"]
/** Where a never-editing body may go: PATCH of the fixed workflow, its lifecycle routes, or create. */
const anyTarget = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ method: "PATCH", path: "/v1/workflows/{W}" }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...LIFECYCLE).map((action) => ({ method: "POST", path: `/v1/workflows/{W}/${action}` }))
  },
  { weight: 2, arbitrary: fc.constant({ method: "POST", path: "/v1/workflows" }) }
)

const garbagePath = fc.oneof(
  printable({ maxLength: 80 }).map((s) => `/v1/workflows/${encodeURIComponent(s)}`),
  fc.constantFrom(
    "/v1/workflows/%FF",
    "/v1/workflows/%",
    "/v1/workflows/%zz",
    "/v1/workflows/%00",
    "/v1/workflows/a%2Fb",
    "/v1/workflows/..%2F..%2Fhealthz",
    "/v1/workflows//",
    "/v1/workflows/{W}/",
    "/v1/workflows/{W}/explode",
    "/v1/workflows/{W}/events?limit=0",
    "/v1/workflows/{W}?x=%FF",
    `/v1/workflows/${"a".repeat(9_000)}`,
    "/v1/workflows/wf_",
    "/v1/workflows/WFL_ABC"
  )
)

const caseArbitrary = (key: string): fc.Arbitrary<Case> => {
  const withBody = (kind: string, body: fc.Arbitrary<string | Uint8Array>, target = anyTarget) =>
    fc.tuple(body, target, headersFor(key, false)).map(([b, t, h]): Case => ({
      kind,
      method: t.method,
      path: t.path,
      headers: h,
      body: b
    }))
  return fc.oneof(
    {
      weight: 25,
      arbitrary: withBody(
        "arbitrary-json",
        fc.tuple(fc.jsonValue(), fc.nat()).map(([v, s]) => JSON.stringify(neutralize(v, s)) ?? "null")
      )
    },
    { weight: 20, arbitrary: withBody("wrong-types", wrongTypes.map((r) => JSON.stringify(r))) },
    {
      weight: 3,
      arbitrary: withBody(
        "huge-string",
        fc.tuple(fc.constantFrom("title", "name", "description", "reason", "unknown_field"), longString(1_000, 70_000))
          .map(([field, s]) =>
            JSON.stringify(EDITABLE.has(field) ? { [field]: s.length > 2_000 ? s : `${s}\u0001` } : { [field]: s })
          )
      )
    },
    { weight: 3, arbitrary: withBody("deep-nesting", deep) },
    { weight: 10, arbitrary: withBody("invalid-utf8", invalidUtf8) },
    { weight: 8, arbitrary: withBody("duplicate-keys", duplicateKeys) },
    { weight: 8, arbitrary: withBody("proto-keys", protoKeys) },
    {
      // Bodies that would be valid edits, made harmless only by an If-Match that cannot match.
      weight: 18,
      arbitrary: fc
        .tuple(
          fc.oneof(
            fc.string({ minLength: 1, maxLength: 50 }).map((s) => JSON.stringify({ title: `Hostile ${s}` })),
            fc.string({ maxLength: 50 }).map((s) => JSON.stringify({ description: `Hostile ${s}` })),
            fc.string({ minLength: 1, maxLength: 50 }).map((s) =>
              JSON.stringify({ name: `Hostile ${s}`, status: "cancelled", version: 2 })
            ),
            fc.constant("{\"title\":\"a\",\"title\":\"b\"}"),
            fc.constant("{\"description\":null}")
          ),
          headersFor(key, true)
        )
        .map(([body, headers]): Case => ({
          kind: "if-match-guarded",
          method: "PATCH",
          path: "/v1/workflows/{W}",
          headers,
          body
        }))
    },
    {
      weight: 5,
      arbitrary: fc
        .tuple(
          garbagePath,
          fc.constantFrom("GET", "PATCH", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"),
          headersFor(key, false),
          fc.oneof(fc.constant(undefined), wrongTypes.map((r) => JSON.stringify(r)))
        )
        .map(([path, method, headers, body]): Case => ({
          kind: "garbage-path-or-method",
          method,
          path,
          headers,
          ...(body === undefined || method === "GET" || method === "HEAD" ? {} : { body })
        }))
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom("PUT", "DELETE", "POST"),
          headersFor(key, false),
          fc.jsonValue().map((v) => JSON.stringify(v) ?? "null")
        )
        .map(([method, headers, body]): Case => ({
          kind: "wrong-method",
          method,
          path: method === "POST" ? "/v1/workflows/{W}" : "/v1/workflows/{W}",
          headers,
          body
        }))
    }
  )
}

// ------------------------------------------------------------------------------------------------
// Raw sockets: lying Content-Length, slow and aborted uploads

// ------------------------------------------------------------------------------------------------

describe("hostile input over real HTTP", () => {
  it.live(
    "≥ 10,000 generated hostile requests: no 5xx, no hang, problem documents, nothing written",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const dir = yield* tempDir
          const filename = join(dir, "workflows.db")
          const server = yield* serverResource(`sqlite:${filename}`)
          const key = server.bootstrapKey!
          expect(key).toMatch(/^wfk_/)
          const base = server.url

          const W = yield* Effect.promise(async () => {
            const created = await call(base, "POST", "/v1/workflows", {
              key,
              json: { title: "Fixed", description: "keep me", status: "active" }
            })
            expect(created.status, created.text).toBe(201)
            const cancelled = await call(base, "POST", `/v1/workflows/${created.body.id}/cancel`, {
              key,
              json: { reason: "fixed for the test" }
            })
            expect(cancelled.status, cancelled.text).toBe(200)
            expect(cancelled.body.version).toBe(2)
            // A second workflow nobody touches.
            const other = await call(base, "POST", "/v1/workflows", {
              key,
              json: { title: "Bystander", status: "active" }
            })
            expect(other.status).toBe(201)
            return created.body.id as string
          })
          const before = yield* readSqlite(filename)
          expect(before.workflows).toHaveLength(2)

          // Fixed regressions first (a deep body with an Idempotency-Key used to overflow the stack: 500), then the generated ones.
          const deepBody = `{"title":${"{\"a\":".repeat(12_000)}1${"}".repeat(12_000)}}`
          const fixed: Array<Case> = [
            {
              kind: "deep-nesting",
              method: "POST",
              path: "/v1/workflows",
              headers: {
                authorization: `Bearer ${key}`,
                "content-type": "application/json",
                "idempotency-key": "deep-1"
              },
              body: deepBody
            },
            {
              kind: "deep-nesting",
              method: "POST",
              path: "/v1/workflows",
              headers: {
                authorization: `Bearer ${key}`,
                "content-type": "application/json",
                "idempotency-key": "deep-2"
              },
              body: `{"x":${"[".repeat(30_000)}${"]".repeat(30_000)}}`
            },
            {
              kind: "duplicate-keys",
              method: "PATCH",
              path: "/v1/workflows/{W}",
              headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "if-match": "\"1\"" },
              body: "{\"title\":\"a\",\"title\":\"b\"}"
            }
          ]
          const cases = [...fixed, ...fc.sample(caseArbitrary(key), { numRuns: 10_100, seed: SEED })]
          const failures: Array<string> = []
          const fail = (c: Case, message: string) => {
            if (failures.length < 50) {
              failures.push(
                `[${c.kind}] ${c.method} ${c.path.slice(0, 80)} ${JSON.stringify(c.headers).slice(0, 300)} body=${
                  typeof c.body === "string"
                    ? c.body.slice(0, 200)
                    : c.body === undefined
                    ? "-"
                    : `bytes(${c.body.length})`
                }: ${message}`
              )
            }
          }
          const statusCounts: Record<number, number> = {}
          const kindCounts: Record<string, number> = {}
          let maxMs = 0
          const started = performance.now()

          // Raw-socket cases run beside the generated load, from the start.
          const head = (contentLength: string, extra = "") =>
            `PATCH /v1/workflows/${W} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n${extra}\r\n`
          const invalidBody = "{\"title\":12345,\"nodes\":[]}"
          const rawRuns = Effect.promise(() =>
            Promise.all([
              // declared larger than sent, then EOF: a response or a close, promptly
              ...Array.from({ length: 10 }, (_, i) =>
                rawExchange(server.port, "lying-larger-eof", [
                  head(String(invalidBody.length + 1 + i * 97)) + invalidBody
                ], { halfClose: true, deadlineMs: 8_000 })),
              // declared larger than sent, connection left open: never answered with a 5xx; we give up after 2.5 s
              ...Array.from({ length: 10 }, (_, i) =>
                rawExchange(server.port, "lying-larger-open", [
                  head(String(invalidBody.length + 1 + i * 1_000)) + invalidBody
                ], { deadlineMs: 2_500 })),
              // declared smaller than sent: the rest is garbage for the parser
              ...Array.from({ length: 10 }, (_, i) =>
                rawExchange(server.port, "lying-smaller", [
                  head(String(Math.max(0, invalidBody.length - 1 - i))) + invalidBody
                ], { deadlineMs: 8_000 })),
              // oversized Content-Length, small body: 413 at once
              ...[
                "65537",
                "1000000",
                "99999999999",
                "9007199254740993",
                "100000000000000000000000",
                "-1",
                "1e3",
                "abc",
                "13, 13"
              ].map((length) =>
                rawExchange(server.port, `oversized-or-garbage-length:${length}`, [head(length) + invalidBody], {
                  deadlineMs: 8_000
                })
              ),
              // slow upload: right length, three pieces 400 ms apart
              ...Array.from({ length: 5 }, () =>
                rawExchange(server.port, "slow-upload", [
                  head(String(invalidBody.length)),
                  invalidBody.slice(0, 9),
                  invalidBody.slice(9)
                ], { gapMs: 400, deadlineMs: 8_000 })),
              // aborted upload: half the body, then the client vanishes
              ...Array.from({ length: 10 }, () =>
                rawExchange(server.port, "aborted-upload", [
                  head(String(invalidBody.length)) + invalidBody.slice(0, 10)
                ], { abortAfterMs: 50, deadlineMs: 8_000 })),
              // chunked: over the limit, and malformed
              rawExchange(server.port, "chunked-over-limit", [
                head("0").replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n") +
                `10000\r\n${"{".padEnd(65_536, " ")}\r\n10\r\n${" ".repeat(16)}\r\n0\r\n\r\n`
              ], { deadlineMs: 8_000 }),
              rawExchange(server.port, "chunked-malformed", [
                head("0").replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n") + `zz\r\n{}\r\n0\r\n\r\n`
              ], { deadlineMs: 8_000 }),
              rawExchange(server.port, "chunked-truncated", [
                head("0").replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n") + `20\r\n{"title"`
              ], { halfClose: true, deadlineMs: 8_000 })
            ])
          )

          const [, raw] = yield* Effect.all(
            [
              Effect.promise(() =>
                pool(cases.length, CONCURRENCY, async (i) => {
                  const c = cases[i]!
                  kindCounts[c.kind] = (kindCounts[c.kind] ?? 0) + 1
                  const path = c.path.replaceAll("{W}", W)
                  try {
                    const reply = await call(base, c.method, path, {
                      key: null,
                      headers: c.headers,
                      ...(c.body === undefined ? {} : { raw: c.body }),
                      timeoutMs: REQUEST_TIMEOUT_MS
                    })
                    statusCounts[reply.status] = (statusCounts[reply.status] ?? 0) + 1
                    maxMs = Math.max(maxMs, reply.ms)
                    if (reply.status >= 500) {
                      return fail(c, `status ${reply.status}: ${reply.text.slice(0, 300)}`)
                    }
                    if (reply.status === 201) return fail(c, `created something: ${reply.text.slice(0, 300)}`)
                    const sentId = c.headers["x-request-id"]?.trim()
                    const gotId = reply.headers.get("x-request-id")
                    if (gotId === null || !SANE_REQUEST_ID.test(gotId)) return fail(c, `bad X-Request-Id ${gotId}`)
                    if (sentId !== undefined && SANE_REQUEST_ID.test(sentId) && gotId !== sentId) {
                      return fail(c, `X-Request-Id ${gotId} instead of ${sentId}`)
                    }
                    const bodyLength = c.body === undefined
                      ? 0
                      : typeof c.body === "string"
                      ? Buffer.byteLength(c.body)
                      : c.body.length
                    if (reply.text.length > Math.max(8_192, 2 * bodyLength)) {
                      return fail(c, `a ${reply.text.length}-byte response`)
                    }
                    if (c.method === "HEAD") {
                      return
                    }
                    if (reply.status >= 400) {
                      if (!reply.headers.get("content-type")?.startsWith("application/problem+json")) {
                        return fail(
                          c,
                          `${reply.status} as ${reply.headers.get("content-type")}: ${reply.text.slice(0, 200)}`
                        )
                      }
                      if (
                        reply.body?.status !== reply.status || !CODES.has(reply.body?.code) ||
                        typeof reply.body?.title !== "string" || typeof reply.body?.type !== "string"
                      ) {
                        return fail(c, `not a problem document: ${reply.text.slice(0, 300)}`)
                      }
                      if (reply.status === 400 && reply.body.code !== "validation_failed") {
                        return fail(c, `400 with code ${reply.body.code}`)
                      }
                    } else if (reply.status === 200 && (c.method === "GET" || c.method === "OPTIONS")) {
                      // A read: it cannot have written anything (the snapshot at the end checks).
                    } else if (reply.status === 200) {
                      // Only a no-op may succeed: the cancelled workflow read back, or cancel-of-cancelled.
                      if (reply.body?.id !== W || reply.body?.version !== 2 || reply.body?.status !== "cancelled") {
                        return fail(c, `200 that is not a no-op: ${reply.text.slice(0, 300)}`)
                      }
                    } else return fail(c, `unexpected status ${reply.status}`)
                  } catch (error) {
                    fail(c, `no response within ${REQUEST_TIMEOUT_MS} ms or connection failure: ${String(error)}`)
                  }
                })
              ),
              rawRuns
            ],
            { concurrency: 2 }
          )
          const elapsed = (performance.now() - started) / 1000

          // Raw-socket results.
          for (const result of raw) {
            const responses = parseResponses(result.text)
            for (const response of responses) {
              if (response.status >= 500) {
                failures.push(`[raw ${result.label}] ${response.status}: ${response.body.slice(0, 200)}`)
              } else if (
                response.status >= 400 &&
                (!response.contentType?.startsWith("application/problem+json") ||
                  !CODES.has(JSON.parse(response.body).code))
              ) {
                failures.push(
                  `[raw ${result.label}] ${response.status} without a problem document: ${result.text.slice(0, 300)}`
                )
              }
            }
            if (result.label === "lying-larger-open") {
              // Still waiting for the rest of the body: nothing may have come back but a 4xx the server could decide early.
              continue
            }
            if (result.label === "aborted-upload") {
              continue
            }
            if (responses.length === 0 && result.end === "client-deadline") {
              failures.push(
                `[raw ${result.label}] neither answered nor closed within 8 s: ${result.text.slice(0, 200)}`
              )
            }
            if (result.label.startsWith("oversized-or-garbage-length:")) {
              const length = result.label.slice("oversized-or-garbage-length:".length)
              const expected = /^\d+$/.test(length) && BigInt(length) < 2n ** 64n ? 413 : 400
              if (responses[0]?.status !== expected) {
                failures.push(`[raw ${result.label}] expected ${expected} first, got ${result.text.slice(0, 200)}`)
              }
            }
            if (result.label === "slow-upload" && responses[0]?.status !== 400) {
              failures.push(`[raw slow-upload] expected the application's 400, got ${result.text.slice(0, 200)}`)
            }
            if (result.label === "chunked-over-limit" && responses[0]?.status !== 413) {
              failures.push(`[raw chunked-over-limit] expected 413, got ${result.text.slice(0, 200)}`)
            }
          }

          // The server is still healthy, wrote nothing, and logged no failure.
          const healthy = yield* Effect.promise(() => call(base, "GET", "/healthz"))
          expect(healthy.status).toBe(200)
          const after = yield* readSqlite(filename)
          const total = Object.values(statusCounts).reduce((a, b) => a + b, 0)
          console.log(
            `hostile-input: ${cases.length} generated requests (${total} answered) in ${elapsed.toFixed(1)} s, ` +
              `max latency ${Math.round(maxMs)} ms, statuses ${JSON.stringify(statusCounts)}, kinds ${
                JSON.stringify(kindCounts)
              }; ` +
              `${raw.length} raw-socket exchanges (seed ${SEED})`
          )
          expect(failures, "hostile requests answered wrongly").toEqual([])
          expect(total, "every generated request was answered").toBe(cases.length)
          expect(cases.length).toBeGreaterThanOrEqual(10_000)
          expect(after, "the database is exactly as before").toEqual(before)
          expect(serverErrors(server.output()), "no 5xx or error in the server log").toEqual([])
        })
      ),
    120_000
  )
})
