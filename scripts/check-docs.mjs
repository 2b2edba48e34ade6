#!/usr/bin/env node
/* global document, NodeFilter, WebSocket, window -- code passed to page.evaluate runs in the browser */
// Real-browser check of the Swagger UI docs page (`npm run check:docs`; not part of `npm test`).
//
// Starts the server on a temporary SQLite database and a free loopback port, opens `/docs` in
// Debian's Chromium (headless, driven by playwright-core), and checks that
//   1. every path+method of `/openapi.json` is rendered as a Swagger UI operation block,
//   2. no request made while loading the page left the loopback address (data:/blob: are fine),
//   3. no schema name or title on the page is an internal filter name (`greaterThanOrEqualTo(1)`,
//      `maxLength(200)`, `int`, …): from the spec the page loaded and the Schemas section expanded, and
//   4. "Try it out" works as sent: authorized with the bootstrap key the server prints at first start,
//      PATCH /v1/workflows/{id} (only `id` filled in, prefilled body untouched) shows 200 and the
//      example's title reads back; POST /v1/workflows with its prefilled body shows 201 and reads back.
// Requests are recorded three ways: Playwright `request` events (page and context), a
// context-level route / routeWebSocket that aborts anything not on loopback, and a recording
// HTTP proxy given to Chromium as `--proxy-server`, which catches what never reaches Playwright
// (favicons, preconnects, browser-level traffic). Loopback bypasses that proxy, so only outside
// traffic hits it, and the proxy refuses it: nothing actually leaves the machine.
// Chromium itself (not the page) still calls a few Google service endpoints even with
// --disable-background-networking/--disable-component-update (seen with Debian Chromium 156:
// accounts.google.com/ListAccounts, update.googleapis.com/service/update2, clients2.google.com/time).
// Proxy hits on those known browser-service hosts are reported as browser-internal and not
// counted against the page, unless the page itself also requested that host.
// CHECK_DOCS_INJECT_EXTERNAL=1 injects outside requests into the page to prove the check fails.
// Writes a full-page screenshot (after "Try it out", keys redacted) to $CHECK_DOCS_SCREENSHOT, by
// default workflows-check-docs.png in the system temp directory, and prints where. Exit: 0 pass, 1 fail, 2 missing prerequisite.
// The server and the browser are always stopped on exit.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const CHROMIUM = "/usr/bin/chromium"
const SCREENSHOT = path.resolve(process.env.CHECK_DOCS_SCREENSHOT ?? path.join(os.tmpdir(), "workflows-check-docs.png"))
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const SERVER_START_TIMEOUT_MS = 60_000
const RENDER_TIMEOUT_MS = 30_000
// Chromium's own service endpoints (browser process, not page-initiated)
const BROWSER_SERVICE_HOSTS = new Set([
  "accounts.google.com",
  "update.googleapis.com",
  "clients2.google.com",
  "clientservices.googleapis.com",
  "optimizationguide-pa.googleapis.com",
  "content-autofill.googleapis.com",
  "safebrowsing.googleapis.com",
  "redirector.gvt1.com"
])
const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

// ---------------------------------------------------------------------------------------------
// Prerequisites (this script installs nothing)

if (!fs.existsSync(CHROMIUM)) {
  console.error(`check:docs: ${CHROMIUM} not found. Install Debian's Chromium with:`)
  console.error("")
  console.error("  apt-get update && apt-get install -y chromium")
  console.error("")
  console.error("(Do not run `npx playwright install`; this check uses the system Chromium.)")
  process.exit(2)
}

let chromium
try {
  ;({ chromium } = await import("playwright-core"))
} catch (error) {
  console.error(
    "check:docs: cannot load playwright-core (a root devDependency). Run `npm install` at the repository root."
  )
  console.error(String(error?.message ?? error))
  process.exit(2)
}

// ---------------------------------------------------------------------------------------------
// Cleanup, always

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "check-docs-"))
let server // ChildProcess
let context // BrowserContext (persistent: closing it closes the browser)
let proxy // http.Server
let cleaned = false
let interrupted = null // the signal that stopped the check, if any

const killServerSync = () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    try {
      process.kill(-server.pid, "SIGKILL") // its own process group (detached)
    } catch {
      try {
        server.kill("SIGKILL")
      } catch {}
    }
  }
}

async function cleanup() {
  if (cleaned) return
  cleaned = true
  if (context) await context.close().catch(() => {})
  if (proxy) proxy.close()
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve))
    try {
      process.kill(-server.pid, "SIGTERM")
    } catch {}
    const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)])
    if (timedOut) killServerSync()
  }
  fs.rmSync(tmp, { recursive: true, force: true })
}

process.on("exit", () => {
  // Last resort if something exits without awaiting cleanup(); the browser is a child of
  // Playwright's own process handling and is killed by it on exit.
  killServerSync()
  try {
    fs.rmSync(tmp, { recursive: true, force: true })
  } catch {}
})
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`check:docs: received ${signal}, cleaning up`)
    interrupted = signal
    cleanup().finally(() => process.exit(130))
  })
}

// ---------------------------------------------------------------------------------------------
// Helpers

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function isLoopbackHost(hostname) {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase()
  if (h === "localhost" || h.endsWith(".localhost")) return true
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true
  if (/^::ffff:127\./.test(h)) return true
  if (net.isIPv4(h)) return h.split(".")[0] === "127"
  return false
}

/** true when the URL stays on this machine's loopback (or never touches the network at all) */
function isAllowedUrl(raw) {
  let url
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  if (url.protocol === "data:" || url.protocol === "blob:" || url.protocol === "about:") return true
  if (url.protocol === "http:" || url.protocol === "https:" || url.protocol === "ws:" || url.protocol === "wss:") {
    return isLoopbackHost(url.hostname)
  }
  return false // chrome-extension:, file:, ftp:, … are not expected from this page
}

const redact = (text) => text.replace(/wfk_[A-Za-z0-9]+/g, "wfk_<redacted>")

function startServer(port, database) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, "packages/cli/bin/workflows.js"),
        "serve",
        "--port",
        String(port),
        "--host",
        "127.0.0.1",
        "--database",
        database
      ],
      { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } }
    )
    server = child
    let output = ""
    const onData = (chunk) => {
      output += chunk.toString()
      if (output.includes("listening on")) {
        clearTimeout(timer)
        resolve(output)
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}):\n${redact(output)}`))
    })
    const timer = setTimeout(
      () =>
        reject(
          new Error(`server did not print "listening on" within ${SERVER_START_TIMEOUT_MS} ms:\n${redact(output)}`)
        ),
      SERVER_START_TIMEOUT_MS
    )
  })
}

/** An HTTP proxy that records every request reaching it and refuses it: nothing goes further. */
function startRecordingProxy(hits) {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      hits.push({ kind: "proxy", method: req.method, url: req.url })
      res.writeHead(403, { "content-type": "text/plain" })
      res.end("blocked by check-docs: request leaves loopback\n")
    })
    srv.on("connect", (req, socket) => {
      hits.push({ kind: "proxy CONNECT", method: "CONNECT", url: req.url })
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n")
    })
    srv.on("upgrade", (req, socket) => {
      hits.push({ kind: "proxy upgrade", method: req.method, url: req.url })
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n")
    })
    srv.listen(0, "127.0.0.1", () => resolve(srv))
  })
}

// ---------------------------------------------------------------------------------------------
// Swagger UI interactions (selectors of the Swagger UI 5 bundle that @effect/platform inlines)

// Titles Effect's built-in filters give their JSON Schema (`greaterThanOrEqualTo(1)`, `maxLength(200)`,
// `int`, …): internal names that must not reach the reader of the docs page.
const INTERNAL_CALL =
  /\b(?:greaterThan|greaterThanOrEqualTo|lessThan|lessThanOrEqualTo|between|multipleOf|maxLength|minLength|length|pattern|startsWith|endsWith|includes|maxItems|minItems|itemsCount|brand)\(/
const INTERNAL_BARE = new Set([
  "int",
  "finite",
  "trimmed",
  "nonEmptyString",
  "positive",
  "negative",
  "nonNegative",
  "nonPositive",
  "lowercased",
  "uppercased",
  "capitalized",
  "uncapitalized"
])
const isInternalName = (text) => INTERNAL_CALL.test(text) || INTERNAL_BARE.has(text.trim())

/**
 * Schema names and titles the page shows, from the spec Swagger UI loaded (every `title`, every
 * component name) and from the rendered Schemas section, every model expanded all the way down.
 */
async function internalNamesShown(page) {
  const fromSpec = await page.evaluate(() => {
    const found = []
    const walk = (node, where) => {
      if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${where}/${i}`))
      else if (node !== null && typeof node === "object") {
        for (const [key, value] of Object.entries(node)) {
          if (key === "title" && typeof value === "string") found.push({ where, text: value })
          if (key !== "example" && key !== "examples") walk(value, `${where}/${key}`)
        }
      }
    }
    const spec = window.ui.specSelectors.specJson().toJS()
    walk(spec, "#")
    for (const name of Object.keys(spec.components?.schemas ?? {})) found.push({ where: "component", text: name })
    return found
  })
  // OAS 3.1: the JSON Schema 2020-12 renderer; each top-level model has an "Expand all" button
  const models = page.locator("#swagger-ui .models article[data-json-schema-level='0']")
  const count = await models.count()
  for (let i = 0; i < count; i++) {
    await models.nth(i).locator(":scope > .json-schema-2020-12-head .json-schema-2020-12-expand-deep-button").click()
  }
  const fromPage = await page.$$eval(
    "#swagger-ui .models .json-schema-2020-12__title",
    (els) => els.map((e) => ({ where: "Schemas section", text: e.textContent.trim() }))
  )
  const pageText = await page.locator("#swagger-ui").innerText()
  const fromText = [...pageText.matchAll(new RegExp(INTERNAL_CALL.source + "[^)\\n]*\\)?", "g"))].map((m) => ({
    where: "page text",
    text: m[0]
  }))
  return {
    checked: fromSpec.length + fromPage.length,
    models: count,
    internal: [...fromSpec, ...fromPage, ...fromText].filter((n) => isInternalName(n.text))
  }
}

/** Authorize button, paste the key, Authorize, Close; true when the page shows itself authorized. */
async function authorize(page, apiKey) {
  await page.locator("#swagger-ui .auth-wrapper .btn.authorize").click()
  const dialog = page.locator("#swagger-ui .dialog-ux .modal-ux")
  await dialog.locator("input[aria-label='auth-bearer-value'], .auth-container input").first().fill(apiKey)
  await dialog.locator(".auth-btn-wrapper .btn.authorize").click()
  await dialog.locator(".auth-btn-wrapper .btn-done, .close-modal").first().click()
  return page.locator("#swagger-ui .auth-wrapper .btn.authorize.locked").count().then((n) => n > 0)
}

/**
 * Opens one operation, clicks "Try it out", fills only the given parameters, leaves the prefilled
 * body as it is and clicks "Execute". Returns the body it was prefilled with, the request the
 * page sent, and the status and body the page then shows.
 */
async function tryItOut(page, method, templatePath, parameters) {
  const block = page.locator(`#swagger-ui .opblock.opblock-${method.toLowerCase()}`).filter({
    has: page.locator(`.opblock-summary-path[data-path="${templatePath}"]`)
  })
  if (!(await block.locator(".opblock-body").count())) await block.locator(".opblock-summary-control").click()
  await block.locator(".try-out__btn").click()
  for (const [name, value] of Object.entries(parameters)) {
    await block.locator(`tr[data-param-name="${name}"] input`).fill(value)
  }
  const prefilled = await block.locator("textarea.body-param__text").inputValue()
  const sent = page.waitForRequest((r) => r.method() === method && r.url().includes("/v1/workflows"), {
    timeout: RENDER_TIMEOUT_MS
  })
  await block.locator(".btn.execute").click()
  const request = await sent
  const status = block.locator(".live-responses-table .response .response-col_status")
  await status.first().waitFor({ timeout: RENDER_TIMEOUT_MS })
  const shownBody = await block
    .locator(".live-responses-table .response .response-col_description pre")
    .first()
    .textContent()
    .catch(() => "")
  return {
    prefilled,
    request: { url: request.url(), body: request.postData(), auth: request.headers()["authorization"] !== undefined },
    status: (await status.first().textContent()).trim(),
    shownBody
  }
}

const parseJson = (text) => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * A fresh page (the Schemas section back to folded), authorized with the bootstrap key; PATCH on a
 * workflow created through the API must answer 200 and leave the example's title stored, POST must
 * answer 201 and store the example. Each attempt is pushed to `tried` for the summary.
 */
async function tryOperations(page, base, spec, apiKey, tried, failures) {
  await page.reload({ waitUntil: "load", timeout: RENDER_TIMEOUT_MS })
  await page.waitForSelector("#swagger-ui .opblock", { timeout: RENDER_TIMEOUT_MS })
  if (!(await authorize(page, apiKey))) failures.push("Swagger UI does not show itself authorized after Authorize")

  const api = (method, url, body) =>
    fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined
    }).then(async (r) => ({ status: r.status, body: parseJson(await r.text()) }))
  // The media type's `example`, else the schema's first `examples` entry (Swagger UI prefills from either)
  const exampleOf = (method, p) => {
    const media = spec.paths?.[p]?.[method]?.requestBody?.content?.["application/json"]
    const name = media?.schema?.$ref?.replace("#/components/schemas/", "")
    return media?.example ?? spec.components?.schemas?.[name]?.examples?.[0]
  }

  // PATCH /v1/workflows/{id}: only `id` filled in, the prefilled body sent as it is
  const created = await api("POST", "/v1/workflows", { title: "Made by check-docs", description: null })
  if (created.status !== 201) {
    failures.push(`POST /v1/workflows (fetch, to have a workflow to edit) -> ${created.status}`)
    return
  }
  const id = created.body.id
  const patchExample = exampleOf("patch", "/v1/workflows/{id}")
  const patch = await tryItOut(page, "PATCH", "/v1/workflows/{id}", { id })
  const patchRead = await api("GET", `/v1/workflows/${id}`)
  tried.push({ op: "PATCH /v1/workflows/{id}", ...patch, readBack: patchRead })
  judgeTry(failures, "PATCH /v1/workflows/{id}", patch, patchExample, "200")
  if (patchRead.body?.title !== patchExample?.title) {
    failures.push(
      `PATCH /v1/workflows/{id}: title read back is ${JSON.stringify(patchRead.body?.title)}, the example's is ${
        JSON.stringify(patchExample?.title)
      }`
    )
  }

  // POST /v1/workflows: nothing filled in, the prefilled body sent as it is
  const postExample = exampleOf("post", "/v1/workflows")
  const post = await tryItOut(page, "POST", "/v1/workflows", {})
  const newId = parseJson(post.shownBody)?.id
  const postRead = newId ? await api("GET", `/v1/workflows/${newId}`) : { status: 0, body: undefined }
  tried.push({ op: "POST /v1/workflows", ...post, readBack: postRead })
  judgeTry(failures, "POST /v1/workflows", post, postExample, "201")
  if (newId === undefined) failures.push("POST /v1/workflows: the page shows no created workflow's id")
  else if (postRead.status !== 200) {
    failures.push(`POST /v1/workflows: the created workflow reads back ${postRead.status}`)
  }
  for (const field of Object.keys(postExample ?? {})) {
    if (postRead.body?.[field] !== postExample[field]) {
      failures.push(
        `POST /v1/workflows: ${field} read back is ${JSON.stringify(postRead.body?.[field])}, the example's is ${
          JSON.stringify(postExample[field])
        }`
      )
    }
  }
}

/** The body was prefilled with the document's example, sent unchanged with the key, and answered as expected. */
function judgeTry(failures, op, result, example, expectedStatus) {
  if (example === undefined) failures.push(`${op}: the document has no request example`)
  const prefilled = parseJson(result.prefilled)
  if (JSON.stringify(prefilled) !== JSON.stringify(example)) {
    failures.push(`${op}: "Try it out" is prefilled with ${result.prefilled.replace(/\s+/g, " ")}, not the example`)
  }
  if (JSON.stringify(parseJson(result.request.body ?? "")) !== JSON.stringify(prefilled)) {
    failures.push(`${op}: the page sent ${result.request.body}, not the prefilled body`)
  }
  if (!result.request.auth) failures.push(`${op}: the page sent no Authorization header`)
  if (result.status !== expectedStatus) {
    failures.push(
      `${op}: the page shows ${result.status}, expected ${expectedStatus}: ${
        redact(result.shownBody ?? "").replace(/\s+/g, " ").slice(0, 300)
      }`
    )
  }
}

// ---------------------------------------------------------------------------------------------
// The check

async function main() {
  const failures = []
  const warnings = []

  // 1. server
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const database = `sqlite:${path.join(tmp, "db.sqlite")}`
  const t0 = Date.now()
  const startOutput = await startServer(port, database)
  // a fresh database: the server prints its bootstrap key once, at first start
  const apiKey = startOutput.match(/wfk_[A-Za-z0-9]+/)?.[0]
  console.log(`server:     ${base} (started in ${Date.now() - t0} ms, database ${database})`)

  // 2. the spec, fetched by Node (not by the browser)
  const specResponse = await fetch(`${base}/openapi.json`)
  if (!specResponse.ok) throw new Error(`GET /openapi.json -> ${specResponse.status}`)
  const spec = await specResponse.json()
  const expected = []
  for (const [p, item] of Object.entries(spec.paths ?? {})) {
    for (const method of Object.keys(item)) {
      if (HTTP_METHODS.includes(method)) expected.push(`${method.toUpperCase()} ${p}`)
    }
  }
  if (expected.length === 0) failures.push("/openapi.json has no operations")

  // 3. browser
  const proxyHits = []
  proxy = await startRecordingProxy(proxyHits)
  const userDataDir = path.join(tmp, "chromium-profile")
  fs.mkdirSync(userDataDir)
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // safety net: anything not on loopback goes to the recording proxy (loopback bypasses it)
      `--proxy-server=http://127.0.0.1:${proxy.address().port}`
    ]
  })
  console.log(`browser:    ${CHROMIUM} ${context.browser()?.version() ?? ""} (playwright-core, profile ${userDataDir})`)

  const requests = [] // { url, method, type, via }
  const seen = new Set()
  const record = (url, method, type, via) => {
    const key = `${method} ${url} ${type}`
    requests.push({ url, method, type, via, dup: seen.has(key) })
    seen.add(key)
  }
  context.on("request", (r) => record(r.url(), r.method(), r.resourceType(), "context"))
  context.on("requestfailed", (r) => {
    if (isAllowedUrl(r.url())) warnings.push(`request failed: ${r.method()} ${r.url()} (${r.failure()?.errorText})`)
  })
  const blocked = []
  await context.route("**/*", (route) => {
    const r = route.request()
    if (isAllowedUrl(r.url())) return route.continue()
    blocked.push(`${r.method()} ${r.url()} (${r.resourceType()})`)
    return route.abort("blockedbyclient")
  })
  await context.routeWebSocket(/.*/, (ws) => {
    record(ws.url(), "GET", "websocket", "routeWebSocket")
    if (isAllowedUrl(ws.url())) ws.connectToServer()
    else {
      blocked.push(`WEBSOCKET ${ws.url()}`)
      ws.close({ code: 1008, reason: "blocked by check-docs" })
    }
  })

  const page = context.pages()[0] ?? (await context.newPage())
  const pageRequests = []
  page.on("request", (r) => pageRequests.push(r.url()))
  page.on("websocket", (ws) => record(ws.url(), "GET", "websocket", "page"))
  page.on("pageerror", (e) => warnings.push(`page error: ${e.message}`))
  page.on("console", (m) => {
    if (m.type() === "error") warnings.push(`console error: ${m.text()}`)
  })

  // 4. load /docs and wait for Swagger UI to render the operations
  const response = await page.goto(`${base}/docs`, { waitUntil: "load", timeout: RENDER_TIMEOUT_MS })
  if (!response || !response.ok()) failures.push(`GET /docs -> ${response?.status()}`)
  try {
    await page.waitForFunction(
      (n) => document.querySelectorAll("#swagger-ui .opblock").length >= n,
      expected.length,
      { timeout: RENDER_TIMEOUT_MS }
    )
  } catch {
    failures.push(`Swagger UI did not render ${expected.length} operation blocks within ${RENDER_TIMEOUT_MS} ms`)
  }
  // let any late fetches (fonts, images, validator badge, …) happen before judging
  await page.waitForLoadState("networkidle", { timeout: 10_000 }).catch(() => {})
  await sleep(1000)

  if (process.env.CHECK_DOCS_INJECT_EXTERNAL === "1") {
    console.log("self-test:  injecting outside requests into the page (CHECK_DOCS_INJECT_EXTERNAL=1)")
    await page.evaluate(() => {
      const img = document.createElement("img")
      img.src = "https://images.example.com/logo.png"
      document.body.append(img)
      const link = document.createElement("link")
      link.rel = "preconnect"
      link.href = "https://fonts.example.net"
      document.head.append(link)
      fetch("https://api.example.org/x").catch(() => {})
      try {
        new WebSocket("wss://ws.example.com/socket")
      } catch {}
    })
    await sleep(3000)
  }

  const rendered = await page.$$eval("#swagger-ui .opblock", (blocks) =>
    blocks.map((b) => {
      const method = b.querySelector(".opblock-summary-method")?.textContent ?? ""
      const pathEl = b.querySelector(".opblock-summary-path")
      const p = pathEl?.getAttribute("data-path") ?? pathEl?.textContent ?? ""
      return `${method.trim().toUpperCase()} ${p.replace(/[\u200b\s]/g, "")}`
    }))
  const renderErrors = await page.$$eval(
    "#swagger-ui .errors-wrapper, #swagger-ui .loading-container .info",
    (els) => els.map((e) => e.textContent.trim()).filter(Boolean)
  )
  for (const e of renderErrors) failures.push(`Swagger UI shows an error: ${e.slice(0, 300)}`)
  const title = await page.locator("#swagger-ui .info .title").first().textContent().catch(() => null)

  // 5. no internal schema names or titles on the page
  const names = await internalNamesShown(page).catch((error) => {
    failures.push(`could not read the schema names shown: ${error.message}`)
    return { checked: 0, models: 0, internal: [] }
  })
  for (const n of names.internal) failures.push(`internal name shown (${n.where}): ${n.text}`)

  // 6. "Try it out" as a reader would: authorize, then send PATCH and POST with their prefilled examples
  const tried = []
  if (apiKey === undefined) failures.push("the server printed no bootstrap API key at first start")
  else {
    try {
      await tryOperations(page, base, spec, apiKey, tried, failures)
    } catch (error) {
      failures.push(`"Try it out" could not be driven: ${error.message.split("\n")[0]}`)
    }
  }

  // The curl lines show the key; it dies with the temporary database, but the screenshot stays behind.
  await page.evaluate(() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeValue.includes("wfk_")) {
        node.nodeValue = node.nodeValue.replace(/wfk_[A-Za-z0-9]+/g, "wfk_<redacted>")
      }
    }
  })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })

  // 7. judge
  const renderedSet = new Set(rendered)
  const missing = expected.filter((op) => !renderedSet.has(op))
  const extra = rendered.filter((op) => !expected.includes(op))
  for (const op of missing) failures.push(`route not rendered: ${op}`)
  if (extra.length) warnings.push(`rendered but not in /openapi.json: ${extra.join(", ")}`)

  const outside = requests.filter((r) => !isAllowedUrl(r.url))
  for (const r of outside) failures.push(`request left loopback: ${r.method} ${r.url} (${r.type}, via ${r.via})`)
  for (const b of blocked) {
    if (!outside.some((r) => b.includes(r.url))) failures.push(`request left loopback (route): ${b}`)
  }
  const hostOf = (u) => {
    try {
      return new URL(u).hostname
    } catch {
      return u
    }
  }
  const pageHosts = new Set(requests.map((r) => hostOf(r.url)))
  const proxyHost = (h) => (h.method === "CONNECT" ? h.url.replace(/:\d+$/, "") : hostOf(h.url))
  const browserInternal = proxyHits.filter((h) =>
    BROWSER_SERVICE_HOSTS.has(proxyHost(h)) && !pageHosts.has(proxyHost(h))
  )
  const proxyLeaks = proxyHits.filter((h) => !browserInternal.includes(h))
  for (const h of proxyLeaks) failures.push(`request left loopback (seen at proxy): ${h.method} ${h.url}`)

  // 8. summary
  const byType = {}
  for (const r of requests) byType[r.type] = (byType[r.type] ?? 0) + 1
  const hosts = [
    ...new Set(requests.map((r) => {
      try {
        return new URL(r.url).protocol.startsWith("http") || new URL(r.url).protocol.startsWith("ws")
          ? new URL(r.url).host
          : new URL(r.url).protocol
      } catch {
        return r.url
      }
    }))
  ]
  console.log(`page title: ${title?.trim() ?? "(none)"}`)
  console.log(
    `routes:     expected ${expected.length}, rendered ${rendered.length}, found ${
      expected.length - missing.length
    }/${expected.length}`
  )
  for (const op of expected) console.log(`  ${renderedSet.has(op) ? "ok     " : "MISSING"} ${op}`)
  console.log(
    `requests:   ${requests.length} (${
      Object.entries(byType).map(([t, n]) => `${t} ${n}`).join(", ")
    }); page-level ${pageRequests.length}; hosts: ${hosts.join(", ")}`
  )
  for (const r of requests) {
    const shown = r.url.length > 120 ? `${r.url.slice(0, 117)}...` : r.url
    console.log(`  ${isAllowedUrl(r.url) ? "loopback" : "OUTSIDE "} ${r.method} ${shown} [${r.type}]`)
  }
  console.log(`non-loopback from the page: ${outside.length + proxyLeaks.length + blocked.length === 0 ? "none" : ""}`)
  for (const r of outside) console.log(`  ${r.method} ${r.url} (${r.type})`)
  for (const b of blocked) console.log(`  blocked by route: ${b}`)
  for (const h of proxyLeaks) console.log(`  seen at proxy: ${h.method} ${h.url}`)
  if (browserInternal.length) {
    const counts = {}
    for (const h of browserInternal) counts[proxyHost(h)] = (counts[proxyHost(h)] ?? 0) + 1
    console.log(
      `browser-internal (Chromium's own service calls, refused by the proxy, not counted): ${
        Object.entries(counts).map(([h, n]) => `${h} x${n}`).join(", ")
      }`
    )
  }
  console.log(
    `names:      ${names.checked} schema names and titles checked (${names.models} models expanded); internal: ${
      names.internal.length === 0 ? "none" : names.internal.map((n) => n.text).join(", ")
    }`
  )
  for (const t of tried) {
    console.log(
      `try it out: ${t.op} -> page shows ${t.status}; sent ${
        t.request.body?.replace(/\s+/g, " ")
      }; read back ${t.readBack.status} title ${JSON.stringify(t.readBack.body?.title)}`
    )
  }
  console.log(`screenshot: ${SCREENSHOT}`)
  for (const w of warnings) console.log(`warning:    ${w}`)

  if (failures.length) {
    console.log(`\ncheck:docs FAILED (${failures.length}):`)
    for (const f of failures) console.log(`  - ${f}`)
    return 1
  }
  console.log("\ncheck:docs passed")
  return 0
}

let code = 1
try {
  code = await main()
} catch (error) {
  if (interrupted) console.error(`check:docs: interrupted by ${interrupted}`)
  else console.error(`check:docs FAILED: ${error?.stack ?? error}`)
  code = 1
} finally {
  await cleanup()
}
process.exit(interrupted ? 130 : code)
