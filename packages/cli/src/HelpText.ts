/**
 * The help the CLI framework renders, fitted for a reader: no colour codes unless stdout is a
 * terminal and NO_COLOR is unset, usage lines that name the whole command (`workflows keys create`,
 * not `create`), and no line wider than WIDTH (the framework pads the command list to its longest
 * usage, which made it about 230 columns wide). @effect/cli offers no option for any of these.
 */
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const WIDTH = 100

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g

export const stripAnsi = (text: string): string => text.replace(ANSI, "")

/** https://no-color.org: colour only on a terminal, and never when NO_COLOR is set to anything. */
export const colourWanted = (stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean =>
  stream.isTTY === true && (env["NO_COLOR"] ?? "") === ""

/** Usage tokens that must stay whole: `[--url URL]`, `<ID>`, `--title TEXT`, a word. */
const USAGE_TOKEN = /\[[^\]]*\]|<[^>]*>|--[\w-]+(?: [A-Z_]+\b)?|\S+/g

/** Greedy fill of `tokens` into lines of at most WIDTH, the first after `first`, the rest after `rest`. */
const fill = (tokens: ReadonlyArray<string>, first: string, rest: string): Array<string> => {
  const lines: Array<string> = []
  let line = first
  let empty = true
  for (const token of tokens) {
    if (!empty && line.length + 1 + token.length > WIDTH) {
      lines.push(line)
      line = rest + token
    } else {
      line = empty ? line + token : `${line} ${token}`
    }
    empty = false
  }
  lines.push(line)
  return lines
}

const wrapUsage = (usage: string, first: string, rest: string): Array<string> =>
  fill(usage.match(USAGE_TOKEN) ?? [], first, rest)

/** Prose: wrap at spaces, continuing under the text of the line (after `  2  ` or `- `). */
const wrapProse = (line: string): Array<string> => {
  if (line.length <= WIDTH) return [line]
  const lead = /^\s*(?:\d+ {2}|- )?/.exec(line)![0]
  return fill(line.slice(lead.length).split(/ +/), lead, " ".repeat(lead.length))
}

/** The command path as typed: `keys create` for `workflows keys create --json --help`. */
const commandPath = (args: ReadonlyArray<string>, leaf: string): string => {
  const firstOption = args.findIndex((arg) => arg.startsWith("-"))
  const words = firstOption === -1 ? args : args.slice(0, firstOption)
  const at = words.lastIndexOf(leaf)
  return at === -1 ? leaf : words.slice(0, at + 1).join(" ")
}

/** Rewrites one help text (already without colour codes); `args` are the command-line arguments. */
export const tidyHelp = (text: string, args: ReadonlyArray<string>, name: string): string => {
  const out: Array<string> = []
  let section = ""
  for (const line of text.split("\n")) {
    if (/^[A-Z]+$/.test(line)) section = line
    const usage = /^\$ (\S+)(.*)$/.exec(line)
    const command = /^ {2}- (.+?) {2,}(\S.*)$/.exec(line)
    if (section === "USAGE" && usage !== null) {
      const leaf = usage[1]!
      const full = leaf === name ? leaf : `${name} ${commandPath(args, leaf)}`
      out.push(...wrapUsage(`${full}${usage[2]}`, "$ ", "    "))
    } else if (section === "COMMANDS" && command !== null) {
      out.push(...wrapUsage(command[1]!, "  ", "    "), ...wrapProse(`      ${command[2]}`))
    } else {
      out.push(...wrapProse(line))
    }
  }
  return out.join("\n")
}

const bold = (line: string) => `\x1b[1m${line}\x1b[0m`

/** Where the silenced console keeps the real `error`, for the handlers. */
const RealError = Symbol.for("workflows/cli/RealError")
type CliConsole = Console.Console & { readonly [RealError]?: Console.Console["error"] }

/**
 * The console the CLI runs with. `log` carries help and command output: help is tidied, and colour
 * is kept (as bold section headings) only when wanted. `error` is silenced while the command line
 * is parsed: the framework prints its own report of a mistake there, and `Failure` prints it
 * instead as the usual `error: …` line. Handlers get the real `error` back (`forHandlers`).
 */
export const cliConsole = (args: ReadonlyArray<string>, name: string, colour: boolean) =>
  Effect.map(Effect.console, (base): CliConsole => ({
    ...base,
    log: (...items: ReadonlyArray<unknown>) => {
      if (items.length !== 1 || typeof items[0] !== "string") return base.log(...items)
      const text = stripAnsi(items[0])
      if (!/^USAGE$/m.test(text)) return base.log(colour ? items[0] : text)
      const tidy = tidyHelp(text, args, name)
      return base.log(colour ? tidy.replace(/^[A-Z]+$/gm, bold) : tidy)
    },
    error: () => Effect.void,
    [RealError]: base.error
  }))

/** Runs a command's handler with `Console.error` writing to stderr again. */
export const forHandlers = <A, E, R>(handler: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.console, (console: CliConsole) => {
    const error = console[RealError]
    return error === undefined ? handler : Effect.withConsole(handler, { ...console, error })
  })
