import { describe, expect, it } from "@effect/vitest"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { cliConsole, colourWanted, forHandlers, tidyHelp } from "../src/HelpText.js"
import { cli, type Result } from "./support.js"

// Each test spawns the real binary (a few seconds on a busy machine).
const SLOW = 120_000

const ESC = "\x1b"

/** A command-line mistake: exit 2, one `error: …` line on stderr, nothing on stdout. */
const expectUsageError = (result: Result, pattern: RegExp) => {
  expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toMatchObject({
    code: 2,
    stderr: expect.stringMatching(pattern),
    stdout: ""
  })
  expect(result.stderr).toMatch(/^error: [^\n]+\n$/)
  expect(result.stderr).not.toContain(ESC)
}

describe.concurrent("workflows help, as a reader sees it", () => {
  it("piped, or with NO_COLOR set, help carries no escape codes", async () => {
    const [piped, noColor, subcommand] = await Promise.all([
      cli(["--help"], { NO_COLOR: "" }),
      cli(["--help"], { NO_COLOR: "1" }),
      cli(["keys", "create", "--help"], { NO_COLOR: "" })
    ])
    for (const result of [piped, noColor, subcommand]) {
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^USAGE$/m)
      expect(result.stdout).not.toContain(ESC)
    }
  }, SLOW)

  it("sub-command usage names the whole command", async () => {
    const [keysCreate, get, root] = await Promise.all([
      cli(["keys", "create", "--help"]),
      cli(["get", "--help"]),
      cli(["--help"])
    ])
    expect(keysCreate.stdout).toMatch(/^\$ workflows keys create \[--database URL\] \[--json\] --org ORG/m)
    expect(get.stdout).toMatch(/^\$ workflows get \[--url URL\] \[--api-key KEY\] \[--json\] <ID>$/m)
    expect(root.stdout).toMatch(/^\$ workflows$/m)
  }, SLOW)

  it("the API key option reads --api-key KEY, never its internal type", async () => {
    const [create, root] = await Promise.all([cli(["create", "--help"]), cli(["--help"])])
    for (const result of [create, root]) {
      expect(result.stdout).toContain("[--api-key KEY]")
      expect(result.stdout).not.toMatch(/redacted/i)
    }
  }, SLOW)

  it("no help line is wider than 100 columns, the command list included", async () => {
    const results = await Promise.all([cli(["--help"]), cli(["update", "--help"]), cli(["keys", "--help"])])
    for (const result of results) {
      const widest = Math.max(...result.stdout.split("\n").map((line) => [...line].length))
      expect(widest).toBeLessThanOrEqual(100)
    }
    // Each command of the list, with its description on the next line.
    expect(results[0]!.stdout).toMatch(/^ {2}keys create \[--database URL\].*\n {6}Create an API key/m)
  }, SLOW)
})

describe.concurrent("workflows messages for common mistakes", () => {
  it("--url without its scheme says that http:// is missing", async () => {
    const [flag, env] = await Promise.all([
      cli(["get", "wfl_m3v7zb9rk2px", "--url", "127.0.0.1:4101", "--api-key", "wfk_x"]),
      cli(["list"], { WORKFLOWS_URL: "localhost:4101", WORKFLOWS_API_KEY: "wfk_x" })
    ])
    expectUsageError(flag, /^error: --url .*http:\/\/ is missing \(try --url http:\/\/127\.0\.0\.1:4101\)$/m)
    expectUsageError(env, /^error: --url \/ \$WORKFLOWS_URL .*http:\/\/ is missing/m)
  }, SLOW)

  it("--limit abc and --if-match 1.5: a whole number is expected, said in plain English", async () => {
    const [limit, ifMatch] = await Promise.all([
      cli(["list", "--limit", "abc", "--api-key", "wfk_x"]),
      cli(["update", "wfl_m3v7zb9rk2px", "--title", "x", "--if-match", "1.5", "--api-key", "wfk_x"])
    ])
    expectUsageError(limit, /^error: --limit must be a whole number \(got "abc"\)$/m)
    expectUsageError(ifMatch, /^error: --if-match must be a whole number \(got "1\.5"\)$/m)
    expect(limit.stderr).not.toMatch(/a integer/)
  }, SLOW)

  it("--status bogus names the option and the statuses it takes", async () => {
    const result = await cli(["list", "--status", "bogus", "--api-key", "wfk_x"])
    expectUsageError(
      result,
      /^error: --status must be one of draft, active, running, paused, completed, cancelled \(got "bogus"\)$/m
    )
  }, SLOW)

  it("PORT=abc: the usual error line and exit 2, before anything starts", async () => {
    const result = await cli(["serve", "--database", "sqlite::memory:"], { PORT: "abc" })
    expectUsageError(result, /^error: --port \/ \$PORT must be a whole number \(got "abc"\)$/m)
  }, SLOW)

  it("a parser error (missing option, unknown command) is one error line too", async () => {
    const [missing, unknown] = await Promise.all([cli(["create", "--api-key", "wfk_x"]), cli(["lst"])])
    expectUsageError(missing, /^error: .*--title/m)
    expectUsageError(unknown, /^error: .*'list'/m)
  }, SLOW)
})

describe("HelpText", () => {
  it("colour only on a terminal without NO_COLOR", () => {
    expect(colourWanted({ isTTY: true }, {})).toBe(true)
    expect(colourWanted({ isTTY: true }, { NO_COLOR: "1" })).toBe(false)
    expect(colourWanted({ isTTY: false }, {})).toBe(false)
    expect(colourWanted({}, {})).toBe(false)
  })

  it("names the command path as typed, options and arguments after it ignored", () => {
    const help = "USAGE\n\n$ create [--json] --org ORG\n"
    expect(tidyHelp(help, ["keys", "create", "--json", "--help"], "workflows")).toContain(
      "$ workflows keys create [--json] --org ORG"
    )
    expect(tidyHelp(help, ["create", "--help"], "workflows")).toContain("$ workflows create [--json]")
    expect(tidyHelp("USAGE\n\n$ get <ID>\n", ["get", "wfl_x", "--help"], "workflows")).toContain("$ workflows get <ID>")
  })

  it.effect("only the parser's own report is silenced: a handler's Console.error reaches stderr", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const base = yield* Effect.console
      const recording: Console.Console = {
        ...base,
        error: (...items: ReadonlyArray<unknown>) => Effect.sync(() => void written.push(items.join(" ")))
      }
      const console = yield* Effect.withConsole(cliConsole([], "workflows", false), recording)
      yield* Effect.withConsole(Console.error("the parser's report"), console)
      yield* Effect.withConsole(forHandlers(Console.error("a handler's report")), console)
      expect(written).toEqual(["a handler's report"])
    }))
})
