import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import {
  isJsonObject,
  type JsonObject,
  notAnObject,
  validationError,
  type WorkflowValidationError
} from "@workflows/domain"
import { Effect } from "effect"
import type { IncomingMessage } from "node:http"
import { PayloadTooLarge, UnsupportedMediaType } from "../api/Problem.js"

export const BODY_LIMIT = 64 * 1024
export const JSON_MEDIA_TYPES = ["application/json", "application/merge-patch+json"] as const

/** A 415 tells the client which media types would work. */
const acceptPatch = HttpApp.appendPreResponseHandler((_request, response) =>
  Effect.succeed(HttpServerResponse.setHeader(response, "accept-patch", JSON_MEDIA_TYPES.join(", ")))
)

/**
 * After a 413 the rest of the body is not read: the connection closes once the answer is out
 * (otherwise Node reads a declared gigabyte to keep the connection alive).
 */
const tooLarge = Effect.zipRight(
  HttpApp.appendPreResponseHandler((_request, response) =>
    Effect.succeed(HttpServerResponse.setHeader(response, "connection", "close"))
  ),
  Effect.fail(new PayloadTooLarge({ limit: BODY_LIMIT }))
)

/** … and, for a compressed body, that only the identity coding would (RFC 9110 §15.5.16). */
const acceptIdentity = HttpApp.appendPreResponseHandler((_request, response) =>
  Effect.succeed(HttpServerResponse.setHeader(response, "accept-encoding", "identity"))
)

// Read as JSON, a gzip body would be reported as malformed JSON: the client must learn it is the coding.
const isEncoded = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const coding = request.headers["content-encoding"]?.trim().toLowerCase()
  return coding !== undefined && coding !== "" && coding !== "identity"
}

const mediaType = (request: HttpServerRequest.HttpServerRequest): string | undefined =>
  request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase()

// JSON is UTF-8 (RFC 8259); a body declared in another charset would be read wrongly, so it is refused.
const declaresOtherCharset = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers["content-type"] ?? "")?.[1]?.toLowerCase()
  return charset !== undefined && charset !== "utf-8" && charset !== "utf8"
}

const hasBody = (request: HttpServerRequest.HttpServerRequest): boolean =>
  request.headers["transfer-encoding"] !== undefined ||
  (request.headers["content-length"] !== undefined && request.headers["content-length"] !== "0")

/**
 * A small body usually arrives with its headers, and Node has parsed and buffered all of it before
 * the request's fiber first runs: then it is taken at once, without waiting for the stream's
 * events (a suspension of the fiber and three listeners per request). `undefined` when the body
 * is still arriving, over the limit, or already being read.
 */
const receivedWhole = (source: IncomingMessage): Buffer | undefined => {
  // Node marks the message complete a step after buffering its body, so a declared length is checked too.
  const declared = source.headers["content-length"]
  const whole = source.complete || (declared !== undefined && source.readableLength === Number(declared))
  if (!whole || source.readableFlowing !== null || source.readableLength > BODY_LIMIT) return undefined
  const buffered: Buffer | null = source.read()
  return buffered ?? Buffer.alloc(0)
}

/**
 * Reads at most `BODY_LIMIT` bytes straight from the socket. Past the limit the socket is not
 * destroyed, so the client still receives its 413 (the framework's own limit resets the
 * connection). A client that hangs up mid-body is a client abort, as the server reports one
 * when it hangs up later: there is nobody left to answer.
 */
const readStreaming = (source: IncomingMessage) =>
  Effect.async<Buffer, PayloadTooLarge>((resume) => {
    // Gone already (a request pipelined behind another waits its turn): its error was emitted to nobody.
    if (source.destroyed) return resume(Effect.interruptWith(HttpServerError.clientAbortFiberId))
    const chunks: Array<Buffer> = []
    let size = 0
    let settled = false
    const settle = (result: Effect.Effect<Buffer, PayloadTooLarge>) => {
      if (settled) return
      settled = true
      source.off("data", onData)
      resume(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > BODY_LIMIT) settle(tooLarge)
      else chunks.push(chunk)
    }
    source.on("data", onData)
    source.once("end", () => settle(Effect.succeed(Buffer.concat(chunks))))
    source.once("error", () => settle(Effect.interruptWith(HttpServerError.clientAbortFiberId)))
    return Effect.sync(() => {
      settled = true
      source.off("data", onData)
    })
  })

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Parses when called: the effect only delivers the outcome. */
const parse = (bytes: Buffer): Effect.Effect<JsonObject, WorkflowValidationError> => {
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(bytes))
  } catch {
    return Effect.fail(validationError([{ field: null, message: "the body is not valid JSON (UTF-8)" }]))
  }
  return isJsonObject(value) ? Effect.succeed(value) : Effect.fail(validationError([notAnObject]))
}

/**
 * docs/CONTRACT.md §2 step 2, in its order: 415 for a body that is not JSON by its Content-Type (a missing
 * one included) or that is compressed, 413 over 64 KiB (by Content-Length before reading, or
 * while streaming), then 400 for malformed JSON or a value that is not an object. With
 * `optional` (the lifecycle routes), an empty body yields `undefined`, whatever its declared
 * type: many clients send `Content-Type: application/json` on every POST.
 */
export const readJsonObject = (
  request: HttpServerRequest.HttpServerRequest,
  options: { readonly optional: boolean }
): Effect.Effect<JsonObject | undefined, UnsupportedMediaType | PayloadTooLarge | WorkflowValidationError> => {
  if (options.optional && !hasBody(request)) return Effect.succeed(undefined)
  const type = mediaType(request)
  if (
    type === undefined || !(JSON_MEDIA_TYPES as ReadonlyArray<string>).includes(type) || declaresOtherCharset(request)
  ) {
    return Effect.zipRight(acceptPatch, Effect.fail(new UnsupportedMediaType()))
  }
  if (isEncoded(request)) {
    return Effect.zipRight(acceptIdentity, Effect.fail(new UnsupportedMediaType({ compressed: true })))
  }
  const declared = Number(request.headers["content-length"] ?? 0)
  if (declared > BODY_LIMIT) return tooLarge
  const read = (bytes: Buffer) => options.optional && bytes.length === 0 ? Effect.succeed(undefined) : parse(bytes)
  // A body already buffered is parsed here and now: one step for the whole read.
  const source = NodeHttpServerRequest.toIncomingMessage(request)
  const received = receivedWhole(source)
  return received === undefined ? Effect.flatMap(readStreaming(source), read) : read(received)
}
