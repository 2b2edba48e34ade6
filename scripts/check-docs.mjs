#!/usr/bin/env node
/* global document, WebSocket -- code passed to page.evaluate runs in the browser */
// Real-browser check of the Swagger UI docs page (`npm run check:docs`; not part of `npm test`).
//
// Starts the server on a temporary SQLite database and a free loopback port, opens `/docs` in
// Debian's Chromium (headless, driven by playwright-core), and checks that
//   1. every path+method of `/openapi.json` is rendered as a Swagger UI operation block, and
//   2. no request made while loading the page left the loopback address (data:/blob: are fine).
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
// Writes a full-page screenshot to $CHECK_DOCS_SCREENSHOT, by default workflows-check-docs.png in the
// system temp directory, and prints where. Exit: 0 pass, 1 fail, 2 missing prerequisite.
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
// The check

async function main() {
  const failures = []
  const warnings = []

  // 1. server
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const database = `sqlite:${path.join(tmp, "db.sqlite")}`
  const t0 = Date.now()
  await startServer(port, database)
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

  await page.screenshot({ path: SCREENSHOT, fullPage: true })

  // 5. judge
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

  // 6. summary
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
