import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { databases } from "./databases.js"
import { parseResponses, rawExchange, type RawOptions, type RawResponse } from "./fetch-support.js"
import { create, Server, stored, withServer, withSql } from "./http-support.js"
import { rowOf } from "./support.js"

/**
 * What only a raw socket can send (pipelined requests, repeated headers, endless uploads, methods
 * Node's server handles apart): every request still gets an HTTP answer, in order, as a problem
 * document when it fails.
 */

const exchange = (parts: ReadonlyArray<string | Buffer>, options: Partial<RawOptions> = {}) =>
  Effect.flatMap(
    Server,
    (server) =>
      Effect.promise(() =>
        rawExchange(Number(new URL(server.url).port), "raw", parts, { deadlineMs: 10_000, ...options })
      )
  )

const expectProblemResponse = (response: RawResponse | undefined, status: number, code: string) => {
  expect(response?.status, response?.head).toBe(status)
  expect(response!.contentType).toMatch(/^application\/problem\+json/)
  expect(response!.head).toMatch(/\r\nx-request-id: *[A-Za-z0-9._:-]+/i)
  const body = JSON.parse(response!.body) as Record<string, unknown>
  expect(body).toMatchObject({ status, code })
  return body
}

const header = (response: RawResponse | undefined, name: string) =>
  new RegExp(`\\r\\n${name}: *([^\\r]*)`, "i").exec(response?.head ?? "")?.[1]

for (const db of databases) {
  withServer(db, "raw connections", (it) => {
    const request = (method: string, path: string, headers: Record<string, string>, body = "") =>
      Effect.map(
        Server,
        (server) =>
          `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.key}\r\n` +
          Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("") +
          (body === "" ? "" : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`) +
          `\r\n${body}`
      )

    it.effect("a workflow's answer declares its exact length in bytes: multibyte text, then a pipelined read, both whole", () =>
      Effect.gen(function*() {
        const workflow = yield* create()
        const title = "Café Übersicht — 東京 🚀"
        const exchanged = yield* exchange([
          (yield* request("PATCH", `/v1/workflows/${workflow.id}`, {}, JSON.stringify({ title }))) +
          (yield* request("GET", `/v1/workflows/${workflow.id}`, {}))
        ], { responses: 2 })
        // Answers are cut by their content-length: one too short or too long breaks the first or loses the second.
        const answers = parseResponses(exchanged.text)
        expect(answers.map((answer) => answer.status), exchanged.text).toEqual([200, 200])
        for (const answer of answers) {
          expect(answer.contentType).toBe("application/json")
          expect(header(answer, "etag")).toBe("\"2\"")
          const body = JSON.parse(Buffer.from(answer.body, "latin1").toString("utf8")) as { title: string }
          expect(body.title).toBe(title)
        }
        expect((yield* withSql(rowOf(workflow.id))).title).toBe(title)
      }))

    it.effect("requests pipelined on one connection run in order: each GET reads the PATCH sent before it", () =>
      Effect.gen(function*() {
        const workflow = yield* create()
        const titles = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth"]
        const pairs: Array<string> = []
        for (const title of titles) {
          pairs.push(yield* request("PATCH", `/v1/workflows/${workflow.id}`, {}, JSON.stringify({ title })))
          pairs.push(yield* request("GET", `/v1/workflows/${workflow.id}`, {}))
        }
        const exchanged = yield* exchange([pairs.join("")], { responses: pairs.length })
        const answers = parseResponses(exchanged.text)
        expect(answers.map((answer) => answer.status), exchanged.text).toEqual(pairs.map(() => 200))
        const seen = answers.map((answer) => {
          const body = JSON.parse(answer.body) as { title: string; version: number }
          return `${body.title} v${body.version}`
        })
        expect(seen).toEqual(titles.flatMap((title, i) => [`${title} v${i + 2}`, `${title} v${i + 2}`]))
        expect((yield* withSql(rowOf(workflow.id))).title).toBe("Sixth")
      }))

    it.effect("a write pipelined with malformed bytes is answered first, then the 400, then the connection closes", () =>
      Effect.gen(function*() {
        const created = yield* exchange([
          (yield* request("POST", "/v1/workflows", {}, JSON.stringify({ title: "Pipelined" }))) +
          "NOT HTTP AT ALL\r\n\r\n"
        ], { responses: 2 })
        const [first, second] = parseResponses(created.text)
        expect(first?.status, created.text).toBe(201)
        const workflow = JSON.parse(first!.body) as { id: string; title: string }
        expect(workflow.title).toBe("Pipelined")
        expectProblemResponse(second, 400, "validation_failed")
        expect(header(second, "connection")).toBe("close")
        expect((yield* withSql(rowOf(workflow.id))).title).toBe("Pipelined")

        const patched = yield* exchange(
          [
            (yield* request("PATCH", `/v1/workflows/${workflow.id}`, {}, JSON.stringify({ title: "Patched" }))) +
            "\x00\x01garbage\r\n\r\n"
          ],
          { responses: 2 }
        )
        const responses = parseResponses(patched.text)
        expect(responses.map((r) => r.status), patched.text).toEqual([200, 400])
        expect(JSON.parse(responses[0]!.body)).toMatchObject({ id: workflow.id, title: "Patched", version: 2 })
        expect((yield* withSql(rowOf(workflow.id))).title).toBe("Patched")
      }))

    it.effect(
      "a body is read whole however it arrives: with its headers, after them, or split mid-JSON",
      () =>
        Effect.gen(function*() {
          const { id } = yield* create()
          const deliveries = [
            { label: "with the headers", split: (text: string) => [text] },
            {
              label: "after the headers",
              split: (text: string) => {
                const at = text.indexOf("\r\n\r\n") + 4
                return [text.slice(0, at), text.slice(at)]
              }
            },
            {
              label: "split inside the JSON",
              split: (text: string) => [text.slice(0, text.length - 7), text.slice(text.length - 7)]
            }
          ]
          for (const [i, { label, split }] of deliveries.entries()) {
            const title = `Arrived ${label}`
            const text = yield* request("PATCH", `/v1/workflows/${id}`, {}, JSON.stringify({ title }))
            const { text: answer } = yield* exchange(split(text), { gapMs: 50 })
            const [response] = parseResponses(answer)
            expect(response?.status, `${label}: ${answer}`).toBe(200)
            expect(JSON.parse(response!.body)).toMatchObject({ id, title, version: i + 2 })
            expect((yield* withSql(rowOf(id))).title).toBe(title)
          }
        })
    )

    it.effect(
      "413 says Connection: close and the server stops reading: a huge declared body is not read",
      () =>
        Effect.gen(function*() {
          const { id } = yield* create()
          const before = yield* stored
          const limit = 256 * 1024 * 1024
          const result = yield* exchange([
            yield* request("PATCH", `/v1/workflows/${id}`, {
              "Content-Type": "application/json",
              "Content-Length": String(1024 ** 3)
            })
          ], {
            stream: { chunk: Buffer.alloc(64 * 1024, " "), limit },
            deadlineMs: 30_000
          })
          const [response, ...more] = parseResponses(result.text)
          expectProblemResponse(response, 413, "payload_too_large")
          expect(header(response, "connection")).toBe("close")
          expect(more).toEqual([])
          // The server hung up: our upload did not run into its cap, nor into our deadline.
          expect(result.end, `${result.written} bytes written`).not.toBe("client-deadline")
          expect(result.written).toBeLessThan(limit)
          expect(yield* stored).toEqual(before)

          // Over the limit while streaming (no Content-Length): the same.
          const chunked = yield* exchange([
            yield* request("PATCH", `/v1/workflows/${id}`, {
              "Content-Type": "application/json",
              "Transfer-Encoding": "chunked"
            })
          ], {
            stream: { chunk: Buffer.from(`10000\r\n${" ".repeat(0x10000)}\r\n`), limit },
            deadlineMs: 30_000
          })
          const [streamed] = parseResponses(chunked.text)
          expectProblemResponse(streamed, 413, "payload_too_large")
          expect(header(streamed, "connection")).toBe("close")
          expect(chunked.end, `${chunked.written} bytes written`).not.toBe("client-deadline")
          expect(chunked.written).toBeLessThan(limit)
        }),
      90_000
    )

    it.effect("two Authorization headers are refused as ambiguous (401), whichever key comes first", () =>
      Effect.gen(function*() {
        const server = yield* Server
        const { id } = yield* create()
        const twice = (first: string, second: string, method = "GET", path = "/v1/workflows") =>
          exchange([
            `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${first}\r\nAuthorization: ${second}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`
          ])
        for (
          const [first, second] of [
            [`Bearer ${server.key}`, `Bearer ${server.otherKey}`],
            [`Bearer ${server.otherKey}`, `Bearer ${server.key}`],
            [`Bearer ${server.key}`, `Bearer ${server.key}`],
            [`Bearer ${server.key}`, "Basic abc"],
            ["", `Bearer ${server.key}`]
          ] as const
        ) {
          for (const path of ["/v1/workflows", `/v1/workflows/${id}`]) {
            const [response] = parseResponses((yield* twice(first, second, "GET", path)).text)
            const body = expectProblemResponse(response, 401, "unauthorized")
            expect(header(response, "www-authenticate")).toBe("Bearer")
            expect(body.detail).toMatch(/one Authorization header/)
          }
        }
        // A write with two keys changes nothing.
        const before = yield* stored
        const [patched] = parseResponses(
          (yield* twice(`Bearer ${server.key}`, `Bearer ${server.otherKey}`, "POST", `/v1/workflows/${id}/activate`))
            .text
        )
        expectProblemResponse(patched, 401, "unauthorized")
        expect(yield* stored).toEqual(before)
        // One header is still fine, and routes that need no key ignore the ambiguity.
        const [one] = parseResponses((yield* exchange([yield* request("GET", `/v1/workflows/${id}`, {})])).text)
        expect(one?.status).toBe(200)
        const [health] = parseResponses((yield* twice("Bearer a", "Bearer b", "GET", "/healthz")).text)
        expect(health?.status).toBe(200)
      }))

    it.effect("CONNECT and other methods Node's server treats apart get an HTTP answer, not a closed socket", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [string, number]> = [
          ["CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n", 404],
          ["CONNECT /v1/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404],
          ["GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 200],
          ["GET /v1/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", 404],
          ["BREW /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400],
          ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400],
          ["TRACE /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404],
          ["PROPFIND /v1/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404]
        ]
        for (const [raw, status] of cases) {
          const result = yield* exchange([raw])
          const [response] = parseResponses(result.text)
          expect(response?.status, `${raw.split("\r\n")[0]}: ${result.text || result.end}`).toBe(status)
          if (status >= 400) expectProblemResponse(response, status, status === 404 ? "not_found" : "validation_failed")
        }
      }))
  })
}
