#!/usr/bin/env node
// A minimal, hand-written implementation of the PATCH /v1/workflows/{id} contract (docs/CONTRACT.md §2, §11)
// with node:http + better-sqlite3, written only as the bench's yardstick: it does the same
// database work per request as `workflows serve` (key lookup by sha256 hash, one write
// transaction opened with BEGIN IMMEDIATE (as ours is), reads the workflow, updates it with version + 1
// and appends one workflow.updated event) with no framework in between.
//
// Same environment as the real server: PORT, HOST, DATABASE_URL=sqlite:PATH. It never migrates:
// it expects a database the real server has already created. It serves GET /healthz and
// PATCH /v1/workflows/{id}; anything else is a 404 problem.
//
// Simplified on purpose (the bench never sends these): read-only echo fields are type-checked
// and compared, but timestamps are compared through Date.parse (millisecond precision) rather
// than with the domain's full calendar validation.
import Database from "better-sqlite3"
import { createHash, randomInt, randomUUID } from "node:crypto"
import { createServer } from "node:http"

const PORT = Number(process.env.PORT ?? 3001)
const HOST = process.env.HOST ?? "127.0.0.1"
const url = process.env.DATABASE_URL ?? ""
if (!url.startsWith("sqlite:")) {
  process.stderr.write("reference-server: DATABASE_URL must be sqlite:PATH\n")
  process.exit(2)
}
const filename = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "")

// Same pragmas as the real server (its client turns WAL on; Sql.ts sets the other three).
const db = new Database(filename, { fileMustExist: true })
db.pragma("journal_mode = WAL")
db.pragma("busy_timeout = 5000")
db.pragma("synchronous = NORMAL")
db.pragma("foreign_keys = ON")

const stmt = {
  key: db.prepare("SELECT id, organization_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL"),
  find: db.prepare("SELECT * FROM workflows WHERE id = ? AND organization_id = ?"),
  update: db.prepare(
    "UPDATE workflows SET title = ?, description = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? RETURNING id"
  ),
  event: db.prepare(
    `INSERT INTO workflow_events (id, workflow_id, organization_id, type, actor, request_id, reason, changes, created_at)
     VALUES (?, ?, ?, 'workflow.updated', ?, ?, NULL, ?, ?)`
  )
}

const BODY_LIMIT = 64 * 1024
const JSON_TYPES = ["application/json", "application/merge-patch+json"]
const KEY_FORMAT = /^wfk_[0-9A-Za-z]{22,128}$/
const ID_FORMAT = /^wfl?_[A-Za-z0-9]{1,64}$/
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
const PATCH_PATH = /^\/v1\/workflows\/([^/?#]*)(?:\?.*)?$/
const CONTROL = /\p{Cc}/u
const CONTROL_EXCEPT_WHITESPACE = /(?![\n\r\t])\p{Cc}/u
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/
const REQUEST_STATUSES = ["draft", "active", "paused", "completed", "cancelled"]
const EDITABLE_HINT = "editable fields are title (or its alias name) and description"
const ELSEWHERE = {
  nodes: "cannot be changed here; use the workflow-nodes endpoints",
  edges: "cannot be changed here; use the workflow-edges endpoints",
  leads: "cannot be changed here; use the Add Lead and Remove Lead endpoints"
}
const MACHINE = {
  activate: ["draft"],
  pause: ["active", "running"],
  resume: ["paused"],
  cancel: ["draft", "active", "running", "paused"]
}
const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

const utf8 = new TextDecoder("utf-8", { fatal: true })
const canonical = (status) => (status === "running" ? "active" : status)
const codePoints = (s) => {
  let n = 0
  for (const _ of s) n++
  return n
}
const randomBase36 = (length) => {
  let out = ""
  for (let i = 0; i < length; i++) out += BASE36[randomInt(36)]
  return out
}

// ---------------------------------------------------------------------------------------------
// Responses

class Problem {
  constructor(status, code, title, detail, extra = {}, headers = {}) {
    Object.assign(this, { status, code, title, detail, extra, headers })
  }
}
const validation = (errors) =>
  new Problem(
    400,
    "validation_failed",
    "Validation failed",
    errors.map((e) => (e.field === null ? e.message : `${e.field}: ${e.message}`)).join("; "),
    { errors }
  )
const notFound = () => new Problem(404, "not_found", "Not found", "No workflow with this id exists.")

const send = (res, status, headers, body) => {
  const payload = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    "content-type": headers["content-type"] ?? "application/json",
    "content-length": Buffer.byteLength(payload)
  })
  res.end(payload)
}

const sendProblem = (res, requestId, problem) =>
  send(
    res,
    problem.status,
    { ...problem.headers, "content-type": "application/problem+json", "x-request-id": requestId },
    {
      type: `urn:workflows:problem:${problem.code}`,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      code: problem.code,
      ...problem.extra
    }
  )

const view = (row) => ({
  id: row.id,
  organization_id: row.organization_id,
  title: row.title,
  name: row.title,
  description: row.description,
  status: row.status,
  node_count: row.node_count,
  edge_count: row.edge_count,
  enrolled_leads: row.enrolled_leads,
  version: row.version,
  created_at: row.created_at,
  updated_at: row.updated_at
})

// ---------------------------------------------------------------------------------------------
// Validation of the body on its own (docs/CONTRACT.md §2 step 3)

const decodeTitle = (value) => {
  if (value === null) return { error: "must not be null; send a title of 1 to 200 characters" }
  if (typeof value !== "string") return { error: "must be a string" }
  const title = value.trim()
  if (title.length === 0) return { error: "must not be blank" }
  if (codePoints(title) > 200) return { error: "must be at most 200 characters after trimming" }
  if (CONTROL.test(title)) return { error: "must not contain control characters" }
  return { value: title }
}

const decodeDescription = (value) => {
  if (value === null) return { value: null }
  if (typeof value !== "string") return { error: "must be a string or null" }
  const description = value.trim()
  if (description.length === 0) return { value: null }
  if (codePoints(description) > 2000) return { error: "must be at most 2000 characters after trimming" }
  if (CONTROL_EXCEPT_WHITESPACE.test(description)) {
    return { error: "must not contain control characters other than newline, carriage return and tab" }
  }
  return { value: description }
}

const decodeInteger = (min) => (value) =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= min
    ? { value }
    : { error: `must be an integer of at least ${min}` }
const decodeString = (value) => (typeof value === "string" ? { value } : { error: "must be a string" })
const decodeInstant = (value) => {
  const ms = typeof value === "string" && ISO_INSTANT.test(value) ? Date.parse(value) : NaN
  return Number.isNaN(ms) ? { error: "must be an ISO-8601 timestamp" } : { value: ms }
}
const READ_ONLY = {
  id: decodeString,
  organization_id: decodeString,
  created_at: decodeInstant,
  updated_at: decodeInstant,
  version: decodeInteger(1),
  node_count: decodeInteger(0),
  edge_count: decodeInteger(0),
  enrolled_leads: decodeInteger(0)
}

const decodePatch = (body) => {
  const fields = Object.keys(body)
  if (fields.length === 0) return { errors: [{ field: null, message: `the body has no fields; ${EDITABLE_HINT}` }] }
  const errors = []
  const patch = { readOnly: {} }
  for (const field of fields) {
    const value = body[field]
    let decoded
    if (field === "title" || field === "name") {
      decoded = decodeTitle(value)
      if (decoded.error === undefined) patch[field] = decoded.value
    } else if (field === "description") {
      decoded = decodeDescription(value)
      if (decoded.error === undefined) patch.description = decoded.value
    } else if (field === "status") {
      if (value === "running") decoded = { error: "running is a legacy status and cannot be requested; use active" }
      else if (REQUEST_STATUSES.includes(value)) patch.status = value
      else decoded = { error: "must be one of draft, active, paused, completed, cancelled" }
    } else if (Object.hasOwn(READ_ONLY, field)) {
      decoded = READ_ONLY[field](value)
      if (decoded.error === undefined) patch.readOnly[field] = decoded.value
    } else {
      decoded = { error: Object.hasOwn(ELSEWHERE, field) ? ELSEWHERE[field] : `is not a known field; ${EDITABLE_HINT}` }
    }
    if (decoded?.error !== undefined) errors.push({ field, message: decoded.error })
  }
  return errors.length > 0 ? { errors } : { patch }
}

// ---------------------------------------------------------------------------------------------
// The write (docs/CONTRACT.md §2 steps 4–8), one transaction; a thrown Problem rolls it back.

const update = db.transaction((principal, id, patch, ifMatch, requestId) => {
  const current = stmt.find.get(id, principal.organization_id)
  if (current === undefined) throw notFound()
  if (ifMatch !== undefined) {
    const etag = `"${current.version}"`
    const tags = ifMatch.split(",").map((tag) => tag.trim())
    if (!tags.includes("*") && !tags.includes(etag)) {
      throw new Problem(
        412,
        "precondition_failed",
        "Precondition failed",
        `If-Match ${ifMatch} does not match the current ETag ${etag}; read the workflow again.`,
        { current_etag: etag }
      )
    }
  }
  if (patch.status !== undefined && canonical(patch.status) !== canonical(current.status)) {
    const allowed = Object.keys(MACHINE).filter((action) => MACHINE[action].includes(current.status))
    throw new Problem(
      409,
      "status_conflict",
      "Status conflict",
      `The workflow is ${current.status} and cannot become ${patch.status} (allowed actions: ${
        allowed.join(", ") || "none"
      }). Status changes only through the lifecycle routes.`,
      {
        current_status: current.status,
        requested_status: patch.status,
        allowed_actions: allowed
      }
    )
  }
  const errors = []
  for (const [field, value] of Object.entries(patch.readOnly)) {
    const stored = field === "created_at" || field === "updated_at" ? Date.parse(current[field]) : current[field]
    if (stored !== value) {
      errors.push({
        field,
        message: "is read-only and differs from the stored value; send the value you read or leave it out"
      })
    }
  }
  let title = patch.title ?? patch.name
  if (patch.title !== undefined && patch.name !== undefined && patch.title !== patch.name) {
    if (patch.title === current.title) title = patch.name
    else if (patch.name === current.title) title = patch.title
    else {errors.push({
        field: "name",
        message:
          "is an alias of title; title and name differ from each other and from the stored title, so the intended title is unclear"
      })}
  }
  if (patch.title === undefined && patch.name === undefined && patch.description === undefined) {
    errors.push({ field: null, message: `the body holds no editable field; ${EDITABLE_HINT}` })
  }
  if (errors.length > 0) throw validation(errors)

  const changes = {}
  if (title !== undefined && title !== current.title) changes.title = { from: current.title, to: title }
  if (patch.description !== undefined && patch.description !== current.description) {
    changes.description = { from: current.description, to: patch.description }
  }
  if (changes.title === undefined && changes.description === undefined) return current // a no-op: nothing written

  const now = new Date().toISOString()
  const next = {
    ...current,
    title: changes.title?.to ?? current.title,
    description: changes.description === undefined ? current.description : changes.description.to,
    version: current.version + 1,
    updated_at: now
  }
  if (stmt.update.all(next.title, next.description, next.version, now, id, current.version).length !== 1) {
    throw new Error(`workflow ${id} changed under a held lock`)
  }
  stmt.event.run(
    `evt_${randomBase36(16)}`,
    id,
    current.organization_id,
    JSON.stringify({ type: "api_key", id: principal.key_id }),
    requestId,
    JSON.stringify(changes),
    now
  )
  return next
})

// ---------------------------------------------------------------------------------------------
// The request pipeline, in the contract's order.

const authenticate = (req) => {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? "")
  const secret = match?.[1]
  if (secret !== undefined && KEY_FORMAT.test(secret)) {
    const row = stmt.key.get(createHash("sha256").update(secret).digest("hex"))
    if (row !== undefined) return { organization_id: row.organization_id, key_id: row.id }
  }
  throw new Problem(401, "unauthorized", "Unauthorized", "Send an API key as `Authorization: Bearer <key>`.", {}, {
    "www-authenticate": "Bearer"
  })
}

/** Resolves with the parsed object, or rejects with a Problem (415, 413, 400). */
const readJsonObject = (req) =>
  new Promise((resolve, reject) => {
    const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase()
    if (type === undefined || !JSON_TYPES.includes(type)) {
      req.resume()
      return reject(
        new Problem(
          415,
          "unsupported_media_type",
          "Unsupported media type",
          "The body must be sent as application/json or application/merge-patch+json.",
          {},
          { "accept-patch": JSON_TYPES.join(", ") }
        )
      )
    }
    const tooLarge = () =>
      new Problem(413, "payload_too_large", "Payload too large", `The body must be at most ${BODY_LIMIT} bytes.`, {
        limit: BODY_LIMIT
      })
    if (Number(req.headers["content-length"] ?? 0) > BODY_LIMIT) {
      req.resume()
      return reject(tooLarge())
    }
    const chunks = []
    let size = 0
    let settled = false
    req.on("data", (chunk) => {
      if (settled) return
      size += chunk.length
      if (size > BODY_LIMIT) {
        settled = true
        reject(tooLarge()) // the rest is drained (the listener stays), so the client gets its 413
      } else chunks.push(chunk)
    })
    req.once("error", () => {
      if (!settled) {
        settled = true
        reject(tooLarge())
      }
    })
    req.once("end", () => {
      if (settled) return
      settled = true
      let value
      try {
        value = JSON.parse(utf8.decode(Buffer.concat(chunks)))
      } catch {
        return reject(validation([{ field: null, message: "the body is not valid JSON (UTF-8)" }]))
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return reject(validation([{ field: null, message: "the body must be a JSON object" }]))
      }
      resolve(value)
    })
  })

const handlePatch = async (req, res, rawId, requestId) => {
  const principal = authenticate(req)
  const body = await readJsonObject(req)
  const decoded = decodePatch(body)
  if (decoded.errors !== undefined) throw validation(decoded.errors)
  let id
  try {
    id = decodeURIComponent(rawId)
  } catch {
    throw notFound()
  }
  if (!ID_FORMAT.test(id)) throw notFound()
  const workflow = update.immediate(principal, id, decoded.patch, req.headers["if-match"], requestId)
  send(res, 200, { etag: `"${workflow.version}"`, "x-request-id": requestId }, view(workflow))
}

const log = (req, status, requestId, started) => {
  const ms = Math.round((performance.now() - started) * 10) / 10
  process.stdout.write(
    `timestamp=${
      new Date().toISOString()
    } level=INFO message="${req.method} ${req.url} ${status}" request_id=${requestId} status=${status} duration_ms=${ms}\n`
  )
}

const server = createServer(async (req, res) => {
  const started = performance.now()
  const incoming = req.headers["x-request-id"]
  const requestId = typeof incoming === "string" && SANE_REQUEST_ID.test(incoming)
    ? incoming
    : `req_${randomUUID().replaceAll("-", "")}`
  res.once("finish", () => log(req, res.statusCode, requestId, started))
  try {
    const match = req.method === "PATCH" ? PATCH_PATH.exec(req.url) : null
    if (match !== null) {
      await handlePatch(req, res, match[1], requestId)
    } else if (req.method === "GET" && (req.url === "/healthz" || req.url.startsWith("/healthz?"))) {
      send(res, 200, { "x-request-id": requestId }, { status: "ok" })
    } else {
      req.resume()
      sendProblem(res, requestId, new Problem(404, "not_found", "Not found", "No such route."))
    }
  } catch (error) {
    if (error instanceof Problem) return sendProblem(res, requestId, error)
    process.stdout.write(
      `timestamp=${new Date().toISOString()} level=ERROR message="request failed" request_id=${requestId} error=${
        JSON.stringify(String(error?.stack ?? error))
      }\n`
    )
    if (!res.headersSent) {
      sendProblem(
        res,
        requestId,
        new Problem(500, "internal", "Internal error", "The server failed to handle this request; it has been logged.")
      )
    } else res.destroy()
  }
})
server.requestTimeout = 30_000
server.headersTimeout = 15_000
server.keepAliveTimeout = 5_000

server.listen(PORT, HOST, () => {
  const { address, port } = server.address()
  process.stdout.write(`reference listening on http://${address}:${port}  database: sqlite:${filename}\n`)
})

const shutdown = () => {
  server.close(() => {
    db.close()
    process.exit(0)
  })
  server.closeIdleConnections?.()
  setTimeout(() => process.exit(0), 2000).unref()
}
process.once("SIGINT", shutdown)
process.once("SIGTERM", shutdown)
