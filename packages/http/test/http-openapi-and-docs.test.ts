import { expect } from "@effect/vitest"
import { Validator } from "@seriousme/openapi-schema-validator"
import { Effect } from "effect"
import { databases } from "./databases.js"
import { send, withServer } from "./http-support.js"

/**
 * docs/CONTRACT.md §4 and §11 over HTTP: the OpenAPI 3.1 document generated from the HttpApi definition is
 * valid, complete and shows the problem documents the server really sends; the docs page and the
 * health routes need no key, and the docs page loads nothing from the internet.
 */

type Json = Record<string, any>

const ROUTES: Record<string, ReadonlyArray<string>> = {
  "/v1/workflows": ["get", "post"],
  "/v1/workflows/{id}": ["get", "patch"],
  "/v1/workflows/{id}/activate": ["post"],
  "/v1/workflows/{id}/pause": ["post"],
  "/v1/workflows/{id}/resume": ["post"],
  "/v1/workflows/{id}/cancel": ["post"],
  "/v1/workflows/{id}/events": ["get"],
  "/healthz": ["get"],
  "/readyz": ["get"]
}

/** Resolves a local `$ref` (`#/components/schemas/X`). */
const resolve = (spec: Json, schema: Json): Json =>
  typeof schema.$ref === "string"
    ? resolve(spec, schema.$ref.slice(2).split("/").reduce((node: Json, key: string) => node[key], spec))
    : schema

/** Is this address on this machine? */
const isLoopback = (url: string) => /^https?:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/i.test(url)

for (const db of databases) {
  withServer(db, "OpenAPI document and docs page over HTTP", (it) => {
    const openapi = Effect.map(send("GET", "/openapi.json", { key: null }), (reply) => {
      expect(reply.status, reply.text).toBe(200)
      expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
      return reply.body as Json
    })

    it.effect("GET /openapi.json needs no key (and ignores a bad one)", () =>
      Effect.gen(function*() {
        expect((yield* send("GET", "/openapi.json", { key: null })).status).toBe(200)
        expect((yield* send("GET", "/openapi.json", { key: "wfk_bogusbogusbogusbogusbogusbogus" })).status).toBe(200)
      }))

    it.effect("it is a valid OpenAPI 3.1 document", () =>
      Effect.gen(function*() {
        const spec = yield* openapi
        expect(spec.openapi).toMatch(/^3\.1\.\d+$/)
        expect(spec.info).toMatchObject({ title: "Workflows", version: expect.any(String) })
        const validator = new Validator()
        const result = yield* Effect.promise(() => validator.validate(structuredClone(spec)))
        expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)).toEqual([])
        expect(result.valid).toBe(true)
        expect(validator.version).toMatch(/^3\.1/)
        // Every $ref points at something that exists.
        const refs = JSON.stringify(spec).match(/"\$ref":"[^"]+"/g) ?? []
        for (const ref of new Set(refs)) {
          const target = ref.slice(8, -1)
          expect(target.startsWith("#/"), target).toBe(true)
          expect(resolve(spec, { $ref: target }), target).toBeDefined()
        }
      }))

    it.effect("it lists every route, and the /v1 routes declare the bearer security scheme", () =>
      Effect.gen(function*() {
        const spec = yield* openapi
        for (const [path, methods] of Object.entries(ROUTES)) {
          expect(spec.paths, path).toHaveProperty([path])
          for (const method of methods) expect(spec.paths[path], `${method} ${path}`).toHaveProperty([method])
        }
        const schemes = spec.components.securitySchemes as Json
        const bearer = Object.entries(schemes).filter(([, s]) =>
          s.type === "http" && String(s.scheme).toLowerCase() === "bearer"
        )
        expect(bearer, JSON.stringify(schemes)).toHaveLength(1)
        const [bearerName] = bearer[0]!
        for (const [path, operations] of Object.entries<Json>(spec.paths)) {
          for (const [method, operation] of Object.entries<Json>(operations)) {
            const security = (operation.security ?? spec.security ?? []) as ReadonlyArray<Json>
            const names = security.flatMap((s) => Object.keys(s))
            if (path.startsWith("/v1/")) {
              expect(names, `${method} ${path}`).toEqual([bearerName])
              expect(operation.responses, `${method} ${path}`).toHaveProperty(["401"])
            } else expect(names, `${method} ${path}`).toEqual([])
          }
        }
      }))

    it.effect("400 responses reference the validation problem schema, never HttpApiDecodeError", () =>
      Effect.gen(function*() {
        const spec = yield* openapi
        expect(JSON.stringify(spec)).not.toContain("HttpApiDecodeError")
        let checked = 0
        for (const [path, operations] of Object.entries<Json>(spec.paths)) {
          for (const [method, operation] of Object.entries<Json>(operations)) {
            const badRequest = operation.responses["400"]
            if (path.startsWith("/v1/")) expect(badRequest, `${method} ${path}`).toBeDefined()
            if (badRequest === undefined) continue
            const content = badRequest.content as Json
            expect(Object.keys(content), `${method} ${path}`).toEqual(["application/problem+json"])
            const schema = resolve(spec, content["application/problem+json"].schema)
            expect(schema.required, `${method} ${path}`).toEqual(
              expect.arrayContaining(["type", "title", "status", "detail", "code", "errors"])
            )
            expect(schema.properties.code.enum).toEqual(["validation_failed"])
            const item = resolve(spec, schema.properties.errors.items)
            expect(Object.keys(item.properties).sort()).toEqual(["field", "message"])
            checked++
          }
        }
        expect(checked).toBeGreaterThanOrEqual(9)
      }))

    it.effect("the documented problems carry their codes; PATCH accepts merge-patch+json; the list documents its parameters", () =>
      Effect.gen(function*() {
        const spec = yield* openapi
        const patch = spec.paths["/v1/workflows/{id}"].patch
        expect(Object.keys(patch.requestBody.content).sort()).toEqual([
          "application/json",
          "application/merge-patch+json"
        ])
        const codes: Record<string, string> = {
          "404": "not_found",
          "409": "status_conflict",
          "412": "precondition_failed",
          "413": "payload_too_large",
          "415": "unsupported_media_type",
          "401": "unauthorized"
        }
        for (const [status, code] of Object.entries(codes)) {
          const schema = resolve(spec, patch.responses[status].content["application/problem+json"].schema)
          expect(schema.properties.code.enum, status).toEqual([code])
        }
        const conflict = resolve(spec, patch.responses["409"].content["application/problem+json"].schema)
        expect(conflict.required).toEqual(
          expect.arrayContaining(["current_status", "requested_status", "allowed_actions"])
        )
        const create = spec.paths["/v1/workflows"].post
        expect(create.responses).toHaveProperty(["201"])
        expect(resolve(spec, create.responses["422"].content["application/problem+json"].schema).properties.code.enum)
          .toEqual(["idempotency_key_reused"])
        const listParams = (spec.paths["/v1/workflows"].get.parameters as ReadonlyArray<Json>).map((p) =>
          `${p.in}:${p.name}`
        ).sort()
        expect(listParams).toEqual(["query:limit", "query:starting_after", "query:status"])
        const patchBody = resolve(spec, patch.requestBody.content["application/json"].schema)
        expect(Object.keys(patchBody.properties)).toEqual(
          expect.arrayContaining(["title", "name", "description", "status"])
        )
        expect(patchBody.additionalProperties).toBe(false)
        // What the handlers do that the framework cannot see, documented as clients meet it.
        const limit = (spec.paths["/v1/workflows"].get.parameters as ReadonlyArray<Json>).find((p) =>
          p.name === "limit"
        )!
        expect(limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 20 })
        expect(conflict.properties.allowed_actions.items.enum.sort()).toEqual(["activate", "cancel", "pause", "resume"])
      }))

    it.effect("lifecycle bodies are optional; responses document X-Request-Id, and ETag / Location where a workflow is returned", () =>
      Effect.gen(function*() {
        const spec = yield* openapi
        for (const action of ["activate", "pause", "resume", "cancel"]) {
          const operation = spec.paths[`/v1/workflows/{id}/${action}`].post
          expect(operation.requestBody.required, action).toBe(false)
          expect(Object.keys(operation.responses["200"].headers).sort(), action).toEqual(["ETag", "X-Request-Id"])
        }
        expect(spec.paths["/v1/workflows/{id}"].patch.requestBody.required).toBe(true)
        expect(Object.keys(spec.paths["/v1/workflows"].post.responses["201"].headers).sort()).toEqual([
          "ETag",
          "Location",
          "X-Request-Id"
        ])
        expect(Object.keys(spec.paths["/v1/workflows/{id}"].get.responses["404"].headers)).toEqual(["X-Request-Id"])
        expect(Object.keys(spec.paths["/v1/workflows"].get.responses["200"].headers)).toEqual(["X-Request-Id"])
        const unavailable = resolve(
          spec,
          spec.paths["/readyz"].get.responses["503"].content["application/problem+json"].schema
        )
        expect(unavailable.properties.code.enum).toEqual(["internal"])
      }))

    it.effect("GET /docs needs no key and is an HTML page that loads nothing from outside this machine", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/docs", { key: null })
        expect(reply.status).toBe(200)
        expect(reply.headers.get("content-type")).toMatch(/^text\/html/)
        expect(reply.text).toMatch(/<html/i)
        const html = reply.text
        // Every resource the markup or its CSS would load: script and image sources, stylesheets, CSS url() and @import.
        const loaded = [
          ...[...html.matchAll(/<(?:script|img|iframe|source|audio|video)\b[^>]*?\ssrc\s*=\s*["']?([^"'\s>]+)/gi)].map((
            m
          ) => m[1]!),
          ...[...html.matchAll(/<link\b[^>]*?\shref\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]!),
          ...[...html.matchAll(/url\(\s*["']?(https?:[^"')\s]+)/gi)].map((m) => m[1]!),
          ...[...html.matchAll(/@import\s+(?:url\()?\s*["']?([^"')\s;]+)/gi)].map((m) => m[1]!)
        ]
        const external = loaded.filter((url) => /^(https?:)?\/\//i.test(url) && !isLoopback(url))
        expect(external).toEqual([])
        expect(html).not.toMatch(/fonts\.(googleapis|gstatic)\.com/)
        expect(html).not.toMatch(/cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com/)
        // The page embeds its spec instead of fetching one from elsewhere.
        const relative = loaded.filter((url) => !/^(https?:)?\/\//i.test(url) && !url.startsWith("data:"))
        for (const url of relative) {
          const asset = yield* send("GET", new URL(url, "http://loopback/docs").pathname, { key: null })
          expect(asset.status, url).toBe(200)
        }
      }))

    it.effect("/healthz and /readyz need no key", () =>
      Effect.gen(function*() {
        const health = yield* send("GET", "/healthz", { key: null })
        expect(health.status, health.text).toBe(200)
        expect(health.body).toEqual({ status: "ok" })
        const ready = yield* send("GET", "/readyz", { key: null })
        expect(ready.status, ready.text).toBe(200)
        expect(ready.body.status).toBe("ready")
        // It needs no key, so it names the kind of database only, never where it is.
        expect(["sqlite", "postgresql"]).toContain(ready.body.database)
        expect((yield* send("GET", "/healthz", { key: "wfk_bogusbogusbogusbogusbogusbogus" })).status).toBe(200)
      }))
  })
}
