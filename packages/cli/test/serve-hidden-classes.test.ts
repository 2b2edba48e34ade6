import { afterAll, describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { type RunningServer, startServer, tempDir } from "./support.js"

/**
 * What a request allocates dies young, except the hidden classes (V8 maps) it makes: those go
 * straight to the old generation and stay until a full collection, so a server that makes some for
 * every request grows its heap with its traffic (a generator function made per call made three, a
 * response's headers record copied and extended two). V8's map log counts the ones made while a
 * warm server answers every kind of request; `npm run bench:profile -- --maps` names their makers.
 */
describe("workflows serve, warm", () => {
  const dir = tempDir()
  const log = join(dir.path, "v8-maps.log")
  let server: RunningServer | undefined
  afterAll(async () => {
    await server?.stop()
    dir.remove()
  })

  /** Map events logged so far (a cached normalization makes none). */
  const mapsMade = () =>
    readFileSync(log, "latin1").split("\n").filter((line) =>
      line.startsWith("map,") && !line.startsWith("map,NormalizeCached,")
    ).length

  it("makes no hidden class per request, whatever the route", async () => {
    server = await startServer(dir.path, ["--log-maps", `--logfile=${log}`, "--no-logfile-per-isolate"])
    const { apiKey, url } = server
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await response.text()
      expect(response.status, `${method} ${path}: ${text}`).toBeLessThan(300)
      return JSON.parse(text) as { readonly id: string }
    }
    // One round: a create, then a read, a rename, a list, a page of events, a pause and a resume of it.
    const round = async (n: number) => {
      const { id } = await call("POST", "/v1/workflows", { title: `Warm ${n}` })
      await call("GET", `/v1/workflows/${id}`)
      await call("PATCH", `/v1/workflows/${id}`, { title: `Renamed ${n}` })
      await call("GET", "/v1/workflows?limit=5")
      await call("GET", `/v1/workflows/${id}/events`)
      await call("POST", `/v1/workflows/${id}/activate`)
      await call("POST", `/v1/workflows/${id}/pause`)
    }
    const ROUNDS = 150
    for (let n = 0; n < ROUNDS; n++) await round(n)
    const before = mapsMade()
    for (let n = 0; n < ROUNDS; n++) await round(ROUNDS + n)
    const perRequest = (mapsMade() - before) / (ROUNDS * 7)
    // One route making one per request would show as about 0.14 here.
    expect(perRequest).toBeLessThan(0.05)
  }, 120_000)
})
