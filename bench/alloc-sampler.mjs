// Preload (--import) for bench/profile.mjs --alloc: samples every allocation site, keeping objects
// that minor and major collections reclaimed too (the garbage is what costs), and writes the
// profile when the process receives SIGUSR2.
import * as fs from "node:fs"
import { Session } from "node:inspector"
const session = new Session()
session.connect()
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))))
let started = false
process.on("SIGUSR2", async () => {
  if (!started) {
    started = true
    await post("HeapProfiler.startSampling", {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true
    })
    fs.writeFileSync(process.env.ALLOC_PROFILE_OUT + ".started", "")
    return
  }
  const { profile } = await post("HeapProfiler.stopSampling", {})
  fs.writeFileSync(process.env.ALLOC_PROFILE_OUT, JSON.stringify(profile))
})
