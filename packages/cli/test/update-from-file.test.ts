import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { cli, type Result, type RunningServer, startServer, tempDir } from "./support.js"

/**
 * `workflows update --from FILE` against a real server: what each row reports, what is stored
 * afterwards (read from the server's database), and files refused before any request.
 */

const SLOW = 120_000

let server: RunningServer
const directory = tempDir()

beforeAll(async () => {
  server = await startServer(directory.path)
})

afterAll(async () => {
  await server?.stop()
  directory.remove()
})

interface Stored {
  readonly title: string
  readonly description: string | null
  readonly version: number
}

/** What the server's database holds: the workflows' rows and the number of events of each. */
const stored = (ids: ReadonlyArray<string>) => {
  const db = new Database(server.database.slice("sqlite:".length), { readonly: true })
  try {
    const row = db.prepare("SELECT title, description, version FROM workflows WHERE id = ?")
    const events = db.prepare("SELECT COUNT(*) AS n FROM workflow_events WHERE workflow_id = ?")
    return ids.map((id) => ({ ...(row.get(id) as Stored), events: (events.get(id) as { n: number }).n }))
  } finally {
    db.close()
  }
}

/** A workflow created over the API (faster than spawning the CLI for each fixture). */
const create = async (title: string, description?: string): Promise<string> => {
  const response = await fetch(`${server.url}/v1/workflows`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(description === undefined ? { title } : { title, description })
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { id: string }).id
}

let files = 0
const file = (name: string, content: string): string => {
  const path = join(directory.path, `${files++}-${name}`)
  writeFileSync(path, content)
  return path
}

const reportLines = (path: string) => readFileSync(path, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line))

describe.concurrent("workflows update --from FILE", () => {
  const remote = (args: ReadonlyArray<string>, input?: string) =>
    cli([...args, "--url", server.url, "--api-key", server.apiKey], {}, input)

  it(
    "CSV with quoting: good rows land, an unknown id and an invalid title fail with their codes (exit 7); a re-run is all unchanged",
    async () => {
      const [a, b, c] = await Promise.all([create("Renewals", "old"), create("Win-back"), create("Outreach")])
      const csv = file(
        "rename.csv",
        "\uFEFFid,title,description\r\n" +
          `${a},"EMEA: Renewals, ""Q3""","Calls, then\r\nemails"\r\n` +
          "wfl_doesnotexist,Ghost,\r\n" +
          `${b},EMEA: Win-back,\r\n` +
          `${c},"bad\u0007bell",\r\n`
      )
      const report = join(directory.path, "report.jsonl")
      const first = await remote(["update", "--from", csv, "--report", report])
      expect(first.code).toBe(7)
      expect(first.stdout.split("\n")).toEqual([
        "line 4  wfl_doesnotexist  failed  not_found: No workflow with this id exists.",
        `line 6  ${c}  failed  validation_failed: title: must not contain control characters`,
        "2 updated, 0 unchanged, 2 failed",
        ""
      ])
      // Line numbers are the file's: the first record spans lines 2 and 3.
      expect(first.stderr).toBe("error: 2 of 4 rows failed (lines 4, 6)\n")
      expect(reportLines(report)).toEqual([
        { line: 2, id: a, outcome: "updated", version: 2 },
        {
          line: 4,
          id: "wfl_doesnotexist",
          outcome: "failed",
          version: null,
          code: "not_found",
          message: "No workflow with this id exists."
        },
        { line: 5, id: b, outcome: "updated", version: 2 },
        {
          line: 6,
          id: c,
          outcome: "failed",
          version: 1,
          code: "validation_failed",
          message: "title: must not contain control characters"
        }
      ])
      const after = stored([a, b, c])
      expect(after).toEqual([
        { title: "EMEA: Renewals, \"Q3\"", description: "Calls, then\r\nemails", version: 2, events: 2 },
        { title: "EMEA: Win-back", description: null, version: 2, events: 2 },
        { title: "Outreach", description: null, version: 1, events: 1 }
      ])

      const again = await remote(["update", "--from", csv, "--json"])
      expect(again.code).toBe(7)
      expect(again.stdout.trimEnd().split("\n").map((line) => JSON.parse(line).outcome)).toEqual([
        "unchanged",
        "failed",
        "unchanged",
        "failed"
      ])
      expect(again.stderr).toBe("0 updated, 2 unchanged, 2 failed\nerror: 2 of 4 rows failed (lines 4, 6)\n")
      expect(stored([a, b, c])).toEqual(after)
    },
    SLOW
  )

  it(
    "JSON Lines on standard input: null clears a description; a stale version is precondition_failed and changes nothing",
    async () => {
      const [a, b] = await Promise.all([create("Lead nurture", "to clear"), create("Renewals")])
      const lines = [
        JSON.stringify({ id: a, description: null, version: 1 }),
        "",
        JSON.stringify({ id: b, name: "Renewals v2", version: 7 })
      ].join("\n")
      const result = await remote(["update", "--from", "-", "--format", "jsonl", "--json"], lines)
      expect(result.code).toBe(7)
      expect(result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line))).toEqual([
        { line: 1, id: a, outcome: "updated", version: 2 },
        {
          line: 3,
          id: b,
          outcome: "failed",
          version: 1,
          code: "precondition_failed",
          message: "If-Match \"7\" does not match the current ETag \"1\"; read the workflow again."
        }
      ])
      expect(stored([a, b])).toEqual([
        { title: "Lead nurture", description: null, version: 2, events: 2 },
        { title: "Renewals", description: null, version: 1, events: 1 }
      ])
    },
    SLOW
  )

  it("a dry run judges every row and writes nothing", async () => {
    const [a, b, c] = await Promise.all([create("Renewals"), create("Win-back"), create("Outreach")])
    const jsonl = file(
      "dry.ndjson",
      [{ id: a, title: "EMEA: Renewals" }, { id: b, title: "Win-back" }, { id: c, title: "" }, {
        id: "wfl_doesnotexist",
        title: "x"
      }]
        .map((row) => JSON.stringify(row))
        .join("\n") + "\n"
    )
    const before = stored([a, b, c])
    const report = join(directory.path, "dry-report.jsonl")
    const result = await remote(["update", "--from", jsonl, "--dry-run", "--report", report])
    expect(result.code).toBe(7)
    expect(result.stdout).toMatch(/^1 would update, 1 unchanged, 2 would fail \(dry run: nothing was written\)$/m)
    expect(result.stderr).toBe("error: 2 of 4 rows would fail (lines 3, 4)\n")
    expect(reportLines(report).map((r) => [r.outcome, r.version, r.code])).toEqual([
      ["would_update", 1, undefined],
      ["unchanged", 1, undefined],
      ["would_fail", 1, "validation_failed"],
      ["would_fail", null, "not_found"]
    ])
    expect(stored([a, b, c])).toEqual(before)

    const clean = file("dry-clean.csv", `id,title\n${a},EMEA: Renewals\n${b},Win-back\n`)
    const ok = await remote(["update", "--from", clean, "--dry-run"])
    expect(ok).toEqual({
      code: 0,
      stdout: "1 would update, 1 unchanged, 0 would fail (dry run: nothing was written)\n",
      stderr: ""
    })
    expect(stored([a, b, c])).toEqual(before)
  }, SLOW)

  it("refuses an unusable file or option before any request (exit 2, naming line and column)", async () => {
    let requests = 0
    const spy = createServer((_request, response) => {
      requests++
      response.writeHead(500).end()
    })
    await new Promise<void>((resolve) => spy.listen(0, "127.0.0.1", resolve))
    const url = `http://127.0.0.1:${(spy.address() as AddressInfo).port}`
    const run = (args: ReadonlyArray<string>, input?: string) =>
      cli(["update", ...args, "--url", url, "--api-key", server.apiKey], {}, input)
    try {
      const cases: ReadonlyArray<readonly [Promise<Result>, RegExp]> = [
        [
          run(["--from", file("no-id.csv", "title,description\nx,y\n")]),
          /line 1, column "id": the header has no id column/
        ],
        [
          run(["--from", file("typo.csv", "id,titel\nwfl_a,x\n")]),
          /line 1, column "titel": unknown column; the columns are id, version, title, name, description$/
        ],
        [
          run(["--from", file("open.csv", "id,title\nwfl_a,x\nwfl_b,\"never closed\n")]),
          /line 3: a quoted field is not closed/
        ],
        [run(["--from", file("short.csv", "id,title\nwfl_a,x\nwfl_b\n")]), /line 3: 1 fields where the header has 2/],
        [
          run([
            "--from",
            file("status.jsonl", "{\"id\":\"wfl_a\",\"title\":\"x\"}\n{\"id\":\"wfl_b\",\"status\":\"active\"}\n")
          ]),
          /line 2, column "status": unknown field/
        ],
        [run(["--from", file("broken.jsonl", "{\"id\":\"wfl_a\"\n")]), /line 1: not valid JSON/],
        [
          run(["--from", file("rows.txt", "id,title\n")]),
          /cannot tell the format of .*rows\.txt: name it \.csv, \.jsonl or \.ndjson, or pass --format/
        ],
        [run(["--from", "-"], "id,title\n"), /--from - reads standard input: say its format with --format/],
        [run(["--from", join(directory.path, "missing.csv")]), /cannot read .*missing\.csv — /],
        [
          run(["--from", file("ok.csv", "id,title\nwfl_a,x\n"), "--concurrency", "0"]),
          /--concurrency must be between 1 and 64/
        ],
        [
          run(["--from", file("ok2.csv", "id,title\nwfl_a,x\n"), "wfl_a"]),
          /--from takes every change from the file .*: drop ID/
        ],
        [run(["wfl_a", "--title", "x", "--dry-run"]), /--dry-run applies only with --from FILE/]
      ]
      for (const [pending, message] of cases) {
        const result = await pending
        expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" })
        expect(result.stderr).toMatch(/^error: /)
        expect(result.stderr.trimEnd()).toMatch(message)
        expect(result.stderr.trimEnd().split("\n")).toHaveLength(1)
      }
      expect(requests).toBe(0)
    } finally {
      spy.close()
    }
  }, SLOW)

  it("503s and dropped connections are retried: every row still lands once", async () => {
    const ids = await Promise.all(["One", "Two", "Three", "Four"].map((title) => create(title)))
    let unavailable = 3
    let dropped = 2
    // In front of the real server: the first PATCHes answer 503, the first GETs lose their connection.
    const flaky = createServer(async (request, response) => {
      if (request.method === "GET" && dropped > 0) {
        dropped--
        return request.socket.destroy()
      }
      const chunks: Array<Buffer> = []
      for await (const chunk of request) chunks.push(chunk as Buffer)
      if (request.method === "PATCH" && unavailable > 0) {
        unavailable--
        return response.writeHead(503, { "content-type": "application/problem+json", "retry-after": "1" }).end(
          JSON.stringify({
            type: "urn:workflows:problem:internal",
            title: "Service unavailable",
            status: 503,
            detail: "retry",
            code: "internal"
          })
        )
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name))
      ) as Record<string, string>
      const upstream = await fetch(`${server.url}${request.url}`, {
        method: request.method!,
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {})
      })
      response.writeHead(
        upstream.status,
        Object.fromEntries(
          [...upstream.headers].filter(([name]) => name !== "content-encoding" && name !== "content-length")
        )
      )
      response.end(Buffer.from(await upstream.arrayBuffer()))
    })
    await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", resolve))
    try {
      const csv = file("flaky.csv", ["id,title", ...ids.map((id, i) => `${id},Renamed ${i}`)].join("\n"))
      const result = await cli([
        "update",
        "--from",
        csv,
        "--json",
        "--url",
        `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`,
        "--api-key",
        server.apiKey
      ])
      expect(result.code).toBe(0)
      expect(result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line).outcome)).toEqual([
        "updated",
        "updated",
        "updated",
        "updated"
      ])
      expect({ unavailable, dropped }).toEqual({ unavailable: 0, dropped: 0 })
      expect(stored(ids)).toEqual(
        ids.map((_, i) => ({ title: `Renamed ${i}`, description: null, version: 2, events: 2 }))
      )
    } finally {
      flaky.close()
    }
  }, SLOW)

  it("a refused key stops the run with the usual exit code", async () => {
    const id = await create("Keyless")
    const result = await cli([
      "update",
      "--from",
      file("key.csv", `id,title\n${id},Renamed\n`),
      "--url",
      server.url,
      "--api-key",
      "wfk_0000000000000000000000"
    ])
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(/^error: authentication failed/)
    expect(stored([id])).toEqual([{ title: "Keyless", description: null, version: 1, events: 1 }])
  }, SLOW)
})
