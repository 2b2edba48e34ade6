import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { connect } from "node:net"
import { type RunningServer, startServer, tempDir } from "./support.js"

/** What an operator sees of `workflows serve`: its start-up line, one log line per request, a clean stop. */
describe("workflows serve as a process", () => {
  const dir = tempDir()
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer(dir.path)
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
    dir.remove()
  })

  const createWorkflow = (title: string): Promise<{ readonly id: string }> =>
    fetch(`${server.url}/v1/workflows`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ title })
    }).then((r) => r.json() as Promise<{ id: string }>)

  it("says where it listens, where the docs are and which database it uses", () => {
    const line = server.output().split("\n").find((l) => l.includes("listening on"))
    expect(line).toBe(`workflows listening on ${server.url}  docs: ${server.url}/docs  database: ${server.database}`)
  })

  it("logs one line per request with method, path, status, duration and request id", async () => {
    const response = await fetch(`${server.url}/v1/workflows/wfl_missing00001`, {
      headers: { authorization: `Bearer ${server.apiKey}`, "x-request-id": "ops-trace-42" }
    })
    expect(response.status).toBe(404)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const lines = server.output().split("\n").filter((l) => l.includes("request_id=ops-trace-42"))
    expect(lines).toHaveLength(1)
    // The whole line, keys in this order: what log shippers and operators' queries parse.
    expect(lines[0]).toMatch(
      /^timestamp=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=INFO fiber=#\d+ message="GET \/v1\/workflows\/wfl_missing00001 404" request_id=ops-trace-42 status=404 duration_ms=\d+(\.\d)?$/
    )
    expect(lines[0]).not.toContain(server.apiKey)
  })

  it("logs a client that hangs up mid-body as a client abort (499, no response), not as a 413", async () => {
    const created = await createWorkflow("Abandoned upload")
    const body = JSON.stringify({ title: "Never arrives in full" })
    const patch = (requestId: string, sent: string) =>
      `PATCH /v1/workflows/${created.id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.apiKey}\r\n` +
      `X-Request-Id: ${requestId}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${sent}`
    const logLine = async (requestId: string) => {
      for (let waited = 0; waited < 10_000; waited += 100) {
        const lines = server.output().split("\n").filter((l) => l.includes(`request_id=${requestId}`))
        if (lines.length > 0) return lines
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      return []
    }
    // Alone on its connection; and pipelined behind a write that waits for another process's lock,
    // so that its response is still queued when the client goes (Node then only errors the request).
    const lock = new Database(server.database.slice("sqlite:".length))
    for (
      const [label, hangUp, parts] of [
        ["end", "end", [patch("ops-abort-end", body.slice(0, 8))]],
        ["destroy", "destroy", [patch("ops-abort-destroy", body.slice(0, 8))]],
        ["queued", "destroy", [patch("ops-abort-first", body), patch("ops-abort-queued", body.slice(0, 8))]]
      ] as const
    ) {
      if (label === "queued") lock.exec("BEGIN IMMEDIATE")
      const socket = connect(server.port, "127.0.0.1")
      socket.on("error", () => {})
      await new Promise((resolve) => socket.once("connect", resolve))
      socket.write(parts.join(""))
      await new Promise((resolve) => setTimeout(resolve, 300))
      socket[hangUp]()
      await new Promise((resolve) => setTimeout(resolve, 300))
      socket.destroy()
      if (label === "queued") lock.exec("ROLLBACK")
      const lines = await logLine(`ops-abort-${label}`)
      expect(lines, label).toHaveLength(1)
      expect(lines[0], label).toMatch(
        new RegExp(`message="PATCH /v1/workflows/${created.id} 499 \\(client abort, no response\\)"`)
      )
      expect(lines[0]).toMatch(/status=499/)
      expect(lines[0]).toMatch(/level=INFO/)
    }
    lock.close()
    // Neither upload, nor the write it was queued behind, changed the workflow.
    const stored = await fetch(`${server.url}/v1/workflows/${created.id}`, {
      headers: { authorization: `Bearer ${server.apiKey}` }
    })
    expect(await stored.json()).toMatchObject({ title: "Abandoned upload", version: 1 })
  }, 30_000)

  it("answers a server bug with an opaque 500 and logs its cause, on one line, with the request id", async () => {
    const created = await createWorkflow("Corrupted")
    // A value the schema does not allow, as a broken migration or another writer might leave it.
    const db = new Database(server.database.slice("sqlite:".length))
    db.prepare("UPDATE workflows SET status = 'bogus_status' WHERE id = ?").run(created.id)
    db.close()
    const response = await fetch(`${server.url}/v1/workflows/${created.id}`, {
      headers: { authorization: `Bearer ${server.apiKey}`, "x-request-id": "ops-defect-7" }
    })
    expect(response.status).toBe(500)
    expect(await response.text()).not.toContain("bogus_status")
    await new Promise((resolve) => setTimeout(resolve, 200))
    const errors = server.output().split("\n").filter((l) => l.includes("level=ERROR"))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain("request_id=ops-defect-7")
    expect(errors[0]).toContain("bogus_status")
  })

  it("on SIGTERM finishes the request in flight, then exits 0", async () => {
    const created = await createWorkflow("Before shutdown")
    const body = JSON.stringify({ title: "During shutdown" })
    const socket = connect(server.port, "127.0.0.1")
    let response = ""
    socket.on("data", (chunk) => (response += chunk.toString()))
    // Half the body now; the rest after the signal, so the request is in flight when it arrives.
    socket.write(
      `PATCH /v1/workflows/${created.id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.apiKey}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    const exited = server.stop()
    await new Promise((resolve) => setTimeout(resolve, 300))
    socket.write(body.slice(5))
    await exited
    expect(response.split("\r\n")[0]).toBe("HTTP/1.1 200 OK")
    expect(response).toContain("\"title\":\"During shutdown\"")
    expect(server.exitCode()).toBe(0)
    // Log lines are written in batches: the batch holding the last request is written on the way out.
    expect(server.output()).toMatch(new RegExp(`message="PATCH /v1/workflows/${created.id} 200"`))
  }, 30_000)
})
