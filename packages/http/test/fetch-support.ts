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
