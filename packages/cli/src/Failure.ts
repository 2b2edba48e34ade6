import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { stripAnsi } from "./HelpText.js"

/**
 * Exit codes, one per kind of failure, so scripts can tell them apart. Documented in
 * `workflows --help` from this same table.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  authentication: 5,
  unreachable: 6,
  rowsFailed: 7
} as const

export const exitCodeTable: ReadonlyArray<readonly [code: number, meaning: string]> = [
  [ExitCode.ok, "success"],
  [ExitCode.internal, "internal error, or anything not listed below (e.g. the server cannot bind its port)"],
  [
    ExitCode.usage,
    "usage or validation error: a bad or missing option or argument (--api-key included), an unusable --from file, or the server rejected the request as invalid"
  ],
  [ExitCode.notFound, "not found (workflow or API key)"],
  [ExitCode.conflict, "conflict: the status does not allow the action, or --if-match is not the current version"],
  [ExitCode.authentication, "authentication failed: the API key is unknown, revoked or malformed"],
  [
    ExitCode.unreachable,
    "the server could not be reached (check --url / WORKFLOWS_URL), or is temporarily unavailable (HTTP 503)"
  ],
  [
    ExitCode.rowsFailed,
    "update --from: some rows failed (or would fail, with --dry-run); the others were applied, each row is reported"
  ]
]

/** A mistake on the command line that the parser cannot see (e.g. an ORG that is not an organization id). */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** Something the command was asked to act on does not exist (e.g. an API key id). */
export class NotFound extends Data.TaggedError("NotFound")<{ readonly message: string }> {}

/** `update --from`: the run went through, but some rows failed (or would); the lines are those rows'. */
export class RowsFailed extends Data.TaggedError("RowsFailed")<{
  readonly dryRun: boolean
  readonly total: number
  readonly lines: ReadonlyArray<number>
}> {}

const listLines = (lines: ReadonlyArray<number>): string =>
  lines.length <= 10 ? lines.join(", ") : `${lines.slice(0, 10).join(", ")} and ${lines.length - 10} more`

export interface Failure {
  readonly code: number
  /** The one line for stderr, without the `error: ` prefix; `None` when there is nothing to report (Ctrl-C). */
  readonly message: Option.Option<string>
}

const failure = (code: number, message: string): Failure => ({ code, message: Option.some(message) })

const tagOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" ? u._tag : undefined

const field = (
  u: unknown,
  key: string
): unknown => (typeof u === "object" && u !== null ? (u as Record<string, unknown>)[key] : undefined)

/** Only the first line of a message: no stack, no multi-line dumps. */
const oneLine = (text: string): string => text.split("\n", 1)[0]!.trim()

/** The innermost useful message of an error chain (`fetch failed` → `connect ECONNREFUSED …`). */
const rootMessage = (u: unknown): string => {
  let current: unknown = u
  let message = ""
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const m = field(current, "message")
    if (typeof m === "string" && m !== "") message = m
    current = field(current, "cause")
  }
  return oneLine(message === "" ? String(u) : message)
}

const configMessage = (error: ConfigError.ConfigError): string => {
  const parts: Array<string> = []
  const walk = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
      case "Or":
        walk(e.left)
        walk(e.right)
        return
      case "InvalidData":
      case "MissingData":
      case "SourceUnavailable":
      case "Unsupported":
        parts.push(e.path.length > 0 ? `${e.path.join(".")}: ${e.message}` : e.message)
    }
  }
  walk(error)
  return parts.join("; ")
}

/** The parser's report of a command-line mistake, as one plain line (its own print is silenced). */
const parserMessage = (error: ValidationError.ValidationError): string => {
  const text = "error" in error ? stripAnsi(HelpDoc.toAnsiText(error.error)) : "invalid command line"
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ")
    .replace(/\ba integer\b/g, "an integer")
}

/** Typed failures: the domain's errors (by tag, so this module loads none of it) and the CLI's own. */
const fromError = (error: unknown): Failure => {
  if (ValidationError.isValidationError(error)) return failure(ExitCode.usage, parserMessage(error))
  if (ConfigError.isConfigError(error)) {
    return failure(ExitCode.usage, `invalid configuration — ${configMessage(error)}`)
  }
  switch (tagOf(error)) {
    case "UsageError":
      return failure(ExitCode.usage, String(field(error, "message")))
    case "RowsFailed": {
      const { dryRun, total, lines } = error as RowsFailed
      const verb = dryRun ? "would fail" : "failed"
      return failure(
        ExitCode.rowsFailed,
        `${lines.length} of ${total} rows ${verb} (line${lines.length === 1 ? "" : "s"} ${listLines(lines)})`
      )
    }
    case "NotFound":
      return failure(ExitCode.notFound, `not found — ${String(field(error, "message"))}`)
    case "WorkflowValidationError": {
      const errors = field(error, "errors") as ReadonlyArray<{ field: string | null; message: string }>
      const detail = errors.map((e) => (e.field === null ? e.message : `${e.field}: ${e.message}`)).join("; ")
      return failure(ExitCode.usage, `validation failed — ${detail}`)
    }
    case "WorkflowNotFound":
      return failure(ExitCode.notFound, `not found — no workflow with id ${JSON.stringify(field(error, "id"))}`)
    case "WorkflowStatusConflict": {
      const allowed = field(error, "allowed_actions") as ReadonlyArray<string>
      return failure(
        ExitCode.conflict,
        `status conflict — the workflow is ${String(field(error, "current_status"))} and cannot become ${
          String(field(error, "requested_status"))
        }; ` +
          (allowed.length === 0
            ? "no lifecycle action applies to a final status"
            : `allowed actions: ${allowed.join(", ")}`)
      )
    }
    case "WorkflowPreconditionFailed": {
      const version = (s: unknown) => String(s).replace(/^"|"$/g, "")
      return failure(
        ExitCode.conflict,
        `precondition failed — --if-match ${version(field(error, "if_match"))} is not the current version (${
          version(field(error, "current_etag"))
        }); get the workflow again`
      )
    }
    case "IdempotencyKeyReused":
      return failure(ExitCode.conflict, "conflict — this idempotency key was already used with a different request")
    case "ServeError": {
      const cause = field(error, "cause")
      if (field(cause, "code") === "EADDRINUSE") {
        const address = field(cause, "address")
        const port = field(cause, "port")
        return failure(
          ExitCode.internal,
          `cannot listen on ${String(address ?? "")}:${String(port ?? "")} — address already in use`
        )
      }
      return failure(ExitCode.internal, `cannot start the server — ${rootMessage(cause)}`)
    }
    case "SqlError":
    case "MigrationError":
      return failure(ExitCode.internal, `database error — ${rootMessage(error)}`)
    default:
      return failure(ExitCode.internal, `internal error — ${rootMessage(error)}`)
  }
}

// The typed client could not read the answer as the workflows API's: a wrong --url is the usual cause.
const NOT_THE_API = "it does not answer as the workflows API; check --url / WORKFLOWS_URL"

const UNAVAILABLE = "the server is temporarily unavailable (HTTP 503): its database does not answer; retry shortly"

/** Defects: the typed client turns 401s and transport failures into defects, as storage failures are in-process. */
const fromDefect = (defect: unknown): Failure => {
  switch (tagOf(defect)) {
    case "Unauthorized":
      return failure(
        ExitCode.authentication,
        `authentication failed — ${String(field(defect, "reason") ?? "the API key was refused")}`
      )
    case "RequestError": {
      const request = field(defect, "request")
      const target = `${String(field(request, "method") ?? "")} ${String(field(request, "url") ?? "")}`.trim()
      if (field(defect, "reason") === "InvalidUrl") return failure(ExitCode.usage, `invalid --url — ${target}`)
      return failure(
        ExitCode.unreachable,
        `cannot reach the server (${target}) — ${rootMessage(field(defect, "cause") ?? defect)}`
      )
    }
    case "ServiceUnavailable":
      return failure(ExitCode.unreachable, UNAVAILABLE)
    case "ResponseError": {
      const status = field(field(defect, "response"), "status")
      if (status === 503) return failure(ExitCode.unreachable, UNAVAILABLE)
      if (status === 500) {
        return failure(ExitCode.internal, "the server failed to handle the request (HTTP 500); its log has the cause")
      }
      return failure(ExitCode.internal, `unexpected response from the server (HTTP ${String(status)}) — ${NOT_THE_API}`)
    }
    case "ParseError":
      return failure(ExitCode.internal, `unexpected response from the server — ${NOT_THE_API}`)
    default:
      return failure(ExitCode.internal, `internal error — ${rootMessage(defect)}`)
  }
}

/** The exit code and the message for a failed run; interruption (Ctrl-C) is a clean exit. */
export const classify = (cause: Cause.Cause<unknown>): Failure => {
  const error = Cause.failureOption(cause)
  if (Option.isSome(error)) return fromError(error.value)
  const defect = Cause.dieOption(cause)
  if (Option.isSome(defect)) return fromDefect(defect.value)
  if (Cause.isInterruptedOnly(cause)) return { code: ExitCode.ok, message: Option.none() }
  return fromDefect(Cause.squash(cause))
}

/**
 * Runs the CLI to an exit code: every failure is reported as one line on stderr (the full cause
 * only with WORKFLOWS_DEBUG=1) and mapped to its code.
 */
export const toExitCode = <R>(program: Effect.Effect<void, unknown, R>): Effect.Effect<number, never, R> =>
  program.pipe(
    Effect.as(ExitCode.ok as number),
    Effect.catchAllCause((cause) =>
      Effect.sync(() => {
        const { code, message } = classify(cause)
        if (process.env["WORKFLOWS_DEBUG"] === "1") process.stderr.write(`${Cause.pretty(cause)}\n`)
        if (Option.isSome(message)) process.stderr.write(`error: ${message.value}\n`)
        return code
      })
    )
  )

/**
 * For `NodeRuntime.runMain`: exit with the code the run settled on, at once (an idle keep-alive
 * connection of the HTTP client would otherwise hold the process open a while). Writes to stdout
 * and stderr are synchronous for files and pipes on Linux, so nothing printed is lost.
 */
export const teardown = <E, A>(exit: Exit.Exit<A, E>, onExit: (code: number) => void): void => {
  const code = Exit.isSuccess(exit)
    ? typeof exit.value === "number" ? exit.value : ExitCode.ok
    : Cause.isInterruptedOnly(exit.cause)
    ? ExitCode.ok
    : ExitCode.internal
  onExit(code)
  process.exit(code)
}
