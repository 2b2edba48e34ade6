import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { existsSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { cli, field, freePort, plain, type Result, type RunningServer, startServer, tempDir } from "./support.js"

// Every test spawns the real binary (a few seconds each on a busy machine): independent tests run
// concurrently against one server, and each test gets a generous timeout.
const SLOW = 120_000

const WORKFLOW_KEYS = [
  "id",
  "organization_id",
  "title",
  "name",
  "description",
  "status",
  "node_count",
  "edge_count",
  "enrolled_leads",
  "version",
  "created_at",
  "updated_at"
]

/** An expected failure: its exit code, and exactly one line on stderr, with no stack trace. */
const expectFailure = (result: Result, code: number, pattern: RegExp) => {
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code, stderr: expect.stringMatching(pattern) })
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1)
  expect(result.stderr).toMatch(/^error: /)
  expect(result.stderr).not.toMatch(/\n\s+at /)
  expect(result.stdout).toBe("")
}

const parse = (result: Result): any => {
  expect(result.stderr).toBe("")
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout)
}

let server: RunningServer
const directory = tempDir()

beforeAll(async () => {
  server = await startServer(directory.path)
})

afterAll(async () => {
  await server?.stop()
  directory.remove()
})

describe.concurrent("workflows CLI", () => {
  /** A remote command against the test server, with the bootstrap key unless told otherwise. */
  const remote = (args: ReadonlyArray<string>, apiKey = server.apiKey) =>
    cli([...args, "--url", server.url, "--api-key", apiKey])

  it("--help documents every exit code", async () => {
    const result = await cli(["--help"])
    expect(result.code).toBe(0)
    const help = plain(result.stdout)
    for (const code of ["0", "1", "2", "3", "4", "5", "6", "7"]) {
      expect(help).toMatch(new RegExp(`^ {2}${code} {2}\\S`, "m"))
    }
    expect(help).toMatch(/2 {2}usage or validation/)
    expect(help).toMatch(/5 {2}authentication/)
    expect(help).toMatch(/6 {2}the server could not be reached/)
    expect(help).toMatch(/7 {2}update --from: some rows failed/)
  }, SLOW)

  it("create → update → get → activate → pause → events, in both output modes", async () => {
    const created = await remote(["create", "--title", "Lead nurture", "--description", "first line\nsecond line"])
    expect(created).toMatchObject({ code: 0, stderr: "" })
    const id = field(created.stdout, "id")!
    expect(id).toMatch(/^wfl_[a-z0-9]{12}$/)
    expect(field(created.stdout, "status")).toBe("draft")
    expect(field(created.stdout, "version")).toBe("1")
    expect(created.stdout).toMatch(/^description +first line\n +second line$/m)

    const updated = parse(
      await remote(["update", id, "--title", "Lead nurture v2", "--clear-description", "--if-match", "1", "--json"])
    )
    expect(Object.keys(updated)).toEqual(WORKFLOW_KEYS)
    expect(updated).toMatchObject({
      id,
      title: "Lead nurture v2",
      name: "Lead nurture v2",
      description: null,
      status: "draft",
      version: 2
    })

    const [gotText, gotJson] = await Promise.all([remote(["get", id]), remote(["get", id, "--json"])])
    expect(parse(gotJson)).toEqual(updated)
    expect(gotText.code).toBe(0)
    expect(field(gotText.stdout, "title")).toBe("Lead nurture v2")
    expect(field(gotText.stdout, "description")).toBe("(none)")
    expect(field(gotText.stdout, "updated")).toBe(updated.updated_at)

    const activated = await remote(["activate", id])
    expect(field(activated.stdout, "status")).toBe("active")
    const paused = parse(await remote(["pause", id, "--reason", "holiday", "--if-match", "3", "--json"]))
    expect(paused).toMatchObject({ status: "paused", version: 4 })

    const [eventsText, eventsJson] = await Promise.all([remote(["events", id]), remote(["events", id, "--json"])])
    const types = ["workflow.paused", "workflow.activated", "workflow.updated", "workflow.created"]
    const events = parse(eventsJson)
    expect(Object.keys(events)).toEqual(["data", "has_more"])
    expect(events.has_more).toBe(false)
    expect(events.data.map((e: any) => e.type)).toEqual(types)
    expect(Object.keys(events.data[0]).sort()).toEqual(
      ["actor", "changes", "created_at", "id", "organization_id", "reason", "request_id", "type", "workflow_id"].sort()
    )
    expect(events.data[0]).toMatchObject({ reason: "holiday", changes: { status: { from: "active", to: "paused" } } })

    expect(eventsText.code).toBe(0)
    const lines = eventsText.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^CREATED +TYPE +ACTOR +REASON +CHANGES$/)
    expect(lines.slice(1).map((line) => line.split(/ {2,}/)[1])).toEqual(types)
    expect(lines[1]).toMatch(/holiday +status: "active" → "paused"$/)
    // Columns line up: every row has its TYPE where the header has it.
    const typeColumn = lines[0]!.indexOf("TYPE")
    for (const line of lines.slice(1)) expect(line.slice(typeColumn)).toMatch(/^workflow\./)
  }, SLOW)

  it("each kind of failure: one line on stderr and its own exit code", async () => {
    const draft = parse(await remote(["create", "--title", "Conflicts", "--json"]))
    const closed = await freePort()
    const [
      blank,
      missingTitle,
      noKey,
      bothDescriptions,
      badOrg,
      missing,
      outsidePattern,
      pauseDraft,
      stale,
      unknownKey,
      unreachable
    ] = await Promise.all([
      remote(["create", "--title", "   "]),
      remote(["create"]),
      cli(["get", draft.id, "--url", server.url]),
      remote(["update", draft.id, "--description", "x", "--clear-description"]),
      cli(["keys", "create", "--org", "acme", "--database", server.database]),
      remote(["get", "wfl_doesnotexist"]),
      remote(["pause", "not-an-id"]),
      remote(["pause", draft.id]),
      remote(["update", draft.id, "--title", "Too late", "--if-match", "7"]),
      remote(["list"], "wfk_" + "A".repeat(32)),
      cli(["list"], { WORKFLOWS_URL: `http://127.0.0.1:${closed}`, WORKFLOWS_API_KEY: server.apiKey })
    ])
    // 2: usage and validation
    expectFailure(blank, 2, /^error: validation failed — title: .+$/m)
    expect(missingTitle.code).toBe(2)
    expect(missingTitle.stderr).toMatch(/--title/)
    expectFailure(noKey, 2, /^error: no API key: pass --api-key or set WORKFLOWS_API_KEY$/m)
    expectFailure(bothDescriptions, 2, /cannot be used together/)
    expectFailure(badOrg, 2, /^error: --org must be an organization id/)
    // 3: not found (an id outside the pattern is just as missing)
    expectFailure(missing, 3, /^error: not found — no workflow with id "wfl_doesnotexist"$/m)
    expectFailure(outsidePattern, 3, /^error: not found — no workflow with id "not-an-id"$/m)
    // 4: conflicts
    expectFailure(
      pauseDraft,
      4,
      /^error: status conflict — the workflow is draft and cannot become paused; allowed actions: activate, cancel$/m
    )
    expectFailure(stale, 4, /^error: precondition failed — --if-match 7 is not the current version \(1\)/)
    // 5: authentication; 6: unreachable
    expectFailure(unknownKey, 5, /^error: authentication failed — .+/)
    expectFailure(
      unreachable,
      6,
      new RegExp(`^error: cannot reach the server \\(GET http://127\\.0\\.0\\.1:${closed}/v1/workflows.*ECONNREFUSED`)
    )
  }, SLOW)

  it("a --url that is not the workflows API is said to be so, never taken for a missing workflow", async () => {
    const draft = parse(await remote(["create", "--title", "Elsewhere", "--json"]))
    // Some other web server, answering 404 in HTML.
    const other = createServer((_request, response) =>
      response.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>")
    )
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve))
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
    try {
      const [wrongBase, wrongServer] = await Promise.all([
        cli(["get", draft.id, "--url", `${server.url}/v1`, "--api-key", server.apiKey]),
        cli(["get", draft.id, "--url", otherUrl, "--api-key", server.apiKey])
      ])
      expectFailure(
        wrongBase,
        1,
        /^error: unexpected response from the server .*it does not answer as the workflows API; check --url/m
      )
      expectFailure(
        wrongServer,
        1,
        /^error: unexpected response from the server .*it does not answer as the workflows API; check --url/m
      )
    } finally {
      other.close()
    }
  }, SLOW)

  it("keys create beside the running server, then list --all with that key; a revoked key gets exit 5", async () => {
    const org = `org_cli_${Date.now().toString(36)}`
    const created = parse(
      await cli(["keys", "create", "--org", org, "--name", "ci", "--json", "--database", server.database])
    )
    expect(Object.keys(created)).toEqual(["id", "organization_id", "name", "key", "created_at"])
    expect(created).toMatchObject({ organization_id: org, name: "ci" })
    expect(created.id).toMatch(/^key_/)
    expect(created.key).toMatch(/^wfk_[0-9A-Za-z]{22,}$/)

    // Env vars instead of flags this time; the new organization starts empty.
    const env = { WORKFLOWS_URL: server.url, WORKFLOWS_API_KEY: created.key }
    for (const title of ["one", "two"]) expect((await cli(["create", "--title", title], env)).code).toBe(0)
    const [all, firstPage, listed, listedJson] = await Promise.all([
      cli(["list", "--limit", "1", "--all", "--json"], env),
      cli(["list", "--limit", "1"], env),
      cli(["keys", "list", "--org", org, "--database", server.database]),
      cli(["keys", "list", "--json", "--database", server.database])
    ])
    const everything = parse(all)
    expect(everything.has_more).toBe(false)
    expect(everything.data.map((w: any) => w.title)).toEqual(["two", "one"])
    expect(firstPage.stdout).toMatch(
      /^ID +STATUS +VERSION +UPDATED +TITLE\nwfl_\w+ +draft +1 +\S+ +two\n\(more: pass --all/
    )
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`^${created.id} +${org} +\\S+ +- +ci$`, "m"))
    expect(listed.stdout).not.toMatch(/wfk_/)
    expect(parse(listedJson).data.some((k: any) => k.id === created.id)).toBe(true)
    expect(listedJson.stdout).not.toMatch(/wfk_/)

    const revoked = await cli(["keys", "revoke", created.id, "--database", server.database])
    expect(revoked).toMatchObject({ code: 0, stdout: expect.stringContaining(`Revoked API key ${created.id}`) })
    const [refused, unknown] = await Promise.all([
      cli(["list"], env),
      cli(["keys", "revoke", "key_nosuchkey", "--database", server.database])
    ])
    expectFailure(refused, 5, /^error: authentication failed/)
    expectFailure(unknown, 3, /^error: not found — no API key with id "key_nosuchkey"$/m)
  }, SLOW)

  it("a server whose database is locked answers 503: exit 6, 'temporarily unavailable'", async () => {
    // A server of its own: holding its database's write lock stalls it (SQLite waits on busy_timeout, 5 s).
    const dir = tempDir()
    const own = await startServer(dir.path)
    try {
      const draft = parse(
        await cli(["create", "--title", "Locked out", "--json", "--url", own.url, "--api-key", own.apiKey])
      )
      const other = new Database(own.database.slice("sqlite:".length))
      other.exec("BEGIN IMMEDIATE")
      let result: Result
      try {
        result = await cli(["update", draft.id, "--title", "Later", "--url", own.url, "--api-key", own.apiKey])
      } finally {
        other.exec("ROLLBACK")
        other.close()
      }
      expectFailure(result, 6, /^error: the server is temporarily unavailable \(HTTP 503\).*retry shortly$/m)
    } finally {
      await own.stop()
      dir.remove()
    }
  }, SLOW)

  it("serve with a port out of range (flag or PORT): a usage error, exit 2, before anything starts", async () => {
    const other = tempDir()
    try {
      const [flag, env] = await Promise.all([
        cli(["serve", "--port", "70000", "--database", `sqlite:${other.path}/db`]),
        cli(["serve", "--database", `sqlite:${other.path}/db`], { PORT: "99999" })
      ])
      for (const result of [flag, env]) {
        expect(result.code).toBe(2)
        expect(result.stderr + result.stdout).toMatch(/--port \/ \$PORT must be from 0 to 65535/)
        expect(result.stderr + result.stdout).not.toMatch(/internal error|\n\s+at /)
      }
    } finally {
      other.remove()
    }
  }, SLOW)

  it("keys list and revoke on a SQLite file that does not exist: exit 3, and no file is created", async () => {
    const other = tempDir()
    try {
      const typo = `${other.path}/typo.db`
      const [list, revoke] = await Promise.all([
        cli(["keys", "list", "--database", `sqlite:${typo}`]),
        cli(["keys", "revoke", "key_abc", "--database", `sqlite:${typo}`])
      ])
      expectFailure(
        list,
        3,
        new RegExp(`^error: not found — no database at ${typo.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `)
      )
      expectFailure(revoke, 3, /^error: not found — no database at /)
      expect(existsSync(typo)).toBe(false)
    } finally {
      other.remove()
    }
  }, SLOW)

  it("serve on a port in use: one line, exit 1", async () => {
    const other = tempDir()
    try {
      const result = await cli(["serve", "--port", String(server.port), "--database", `sqlite:${other.path}/db`])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^error: cannot listen on 127\.0\.0\.1:\d+ — address already in use\n$/)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    } finally {
      other.remove()
    }
  }, SLOW)

  it("migrate applies the migrations to a fresh database and says which", async () => {
    const other = tempDir()
    try {
      const result = await cli(["migrate"], { DATABASE_URL: `sqlite:${other.path}/fresh.db` })
      expect(result).toMatchObject({ code: 0, stderr: "" })
      expect(result.stdout).toContain(`Migrated sqlite:${other.path}/fresh.db`)
    } finally {
      other.remove()
    }
  }, SLOW)
})
