import { connect } from "node:net"

/** A reply as every HTTP-level test reads it. */
export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The parsed body, or `undefined` when it is not JSON. */
  readonly body: any
  readonly ms: number
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer`; `null` or absent sends none. */
  readonly key?: string | null
  /** Sent as JSON with `Content-Type: application/json` (unless `headers` says otherwise). */
  readonly json?: unknown
  /** Sent as is, with no Content-Type unless `headers` gives one (fetch adds none for bytes). */
  readonly raw?: string | Uint8Array
  readonly headers?: Record<string, string>
  readonly timeoutMs?: number
}

/**
 * A plain `fetch`, as any non-Effect client would call the API, with a hard deadline: a hung
 * request rejects with a TimeoutError instead of hanging the test.
 */
export const call = async (base: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> => {
  const headers: Record<string, string> = {}
  if (options.key != null) headers.authorization = `Bearer ${options.key}`
  let body: string | Uint8Array | undefined
  if (options.json !== undefined) {
    headers["content-type"] = "application/json"
    body = JSON.stringify(options.json)
  }
  if (options.raw !== undefined) body = options.raw
  const started = performance.now()
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...options.headers },
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    ...(body === undefined ? {} : { body })
  })
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: response.status, headers: response.headers, text, body: parsed, ms: performance.now() - started }
}

/** What a raw-socket exchange got back, and how it ended. */
export interface RawResult {
  readonly label: string
  readonly text: string
  /** How the exchange ended: the server closed, or our own deadline (the request is still pending server-side). */
  readonly end: "server-closed" | "client-deadline" | "error"
  readonly ms: number
  /** Bytes of `parts` (and of `stream`) the socket accepted before it ended. */
  readonly written: number
}

export interface RawOptions {
  readonly gapMs?: number
  readonly halfClose?: boolean
  readonly deadlineMs: number
  readonly abortAfterMs?: number
  /** How many whole responses to wait for before closing (200 ms later); default 1. */
  readonly responses?: number
  /**
   * After `parts`, keep writing `chunk` until the server ends the connection or `limit` bytes are
   * written (a huge upload). The exchange then ends only when the server closes, or on the deadline.
   */
  readonly stream?: { readonly chunk: Buffer; readonly limit: number }
}

/**
 * Bytes straight onto a socket, for what no HTTP client sends: pipelining, lying lengths, garbage,
 * aborted and endless uploads. Resolves when the server closes, on our deadline, or 200 ms after
 * the expected number of whole responses arrived.
 */
export const rawExchange = (
  port: number,
  label: string,
  parts: ReadonlyArray<string | Buffer>,
  options: RawOptions
): Promise<RawResult> =>
  new Promise<RawResult>((resolve) => {
    const started = performance.now()
    const socket = connect(port, "127.0.0.1")
    let text = ""
    let written = 0
    let end: RawResult["end"] = "server-closed"
    const deadline = setTimeout(() => {
      end = "client-deadline"
      socket.destroy()
    }, options.deadlineMs)
    let closing = false
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1")
      // The responses we wait for; anything the server adds within 200 ms is kept too.
      if (!closing && options.stream === undefined && parseResponses(text).length >= (options.responses ?? 1)) {
        closing = true
        setTimeout(() => socket.destroy(), 200)
      }
    })
    socket.on("error", () => {
      if (end === "server-closed") end = "error"
    })
    socket.on("close", () => {
      clearTimeout(deadline)
      resolve({ label, text, end, ms: performance.now() - started, written })
    })
    const write = (part: string | Buffer) =>
      new Promise<void>((done) =>
        socket.write(part, (error) => {
          if (error === undefined || error === null) written += Buffer.byteLength(part)
          done()
        })
      )
    socket.on("connect", async () => {
      for (const part of parts) {
        if (socket.destroyed) return
        await write(part)
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs))
      }
      if (options.stream !== undefined) {
        while (!socket.destroyed && written < options.stream.limit) await write(options.stream.chunk)
        return
      }
      if (options.abortAfterMs !== undefined) setTimeout(() => socket.destroy(), options.abortAfterMs)
      else if (options.halfClose) socket.end()
    })
  })

export interface RawResponse {
  readonly status: number
  readonly contentType: string | undefined
  /** The status line and headers, as sent. */
  readonly head: string
  readonly body: string
}

/** The whole responses in a raw exchange, in order. */
export const parseResponses = (text: string): Array<RawResponse> => {
  const responses: Array<RawResponse> = []
  let rest = text
  while (rest.startsWith("HTTP/1.1 ")) {
    const headEnd = rest.indexOf("\r\n\r\n")
    if (headEnd < 0) break
    const head = rest.slice(0, headEnd)
    const status = Number(head.slice(9, 12))
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
    if (rest.length < headEnd + 4 + length) break
    responses.push({
      status,
      contentType: /\r\ncontent-type: *([^\r]+)/i.exec(head)?.[1],
      head,
      body: rest.slice(headEnd + 4, headEnd + 4 + length)
    })
    rest = rest.slice(headEnd + 4 + length)
  }
  return responses
}
