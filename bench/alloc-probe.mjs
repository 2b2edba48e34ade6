// Preload (`node --import ./bench/alloc-probe.mjs …`) used by bench/run.mjs and bench/profile.mjs:
// counts the bytes a server allocates on the JavaScript heap between two SIGUSR2 signals, from
// V8's own heap statistics around every collection (no sampling, no per-allocation cost), and
// writes {"bytes": N} to $ALLOC_PROBE_OUT at the second signal. Not loaded by `workflows serve`.
import * as fs from "node:fs"
import { GCProfiler, getHeapStatistics } from "node:v8"

const out = process.env.ALLOC_PROBE_OUT
let profiler
let startUsed = 0

process.on("SIGUSR2", () => {
  if (profiler === undefined) {
    startUsed = getHeapStatistics().used_heap_size
    profiler = new GCProfiler()
    profiler.start()
    fs.writeFileSync(`${out}.started`, "")
    return
  }
  const endUsed = getHeapStatistics().used_heap_size
  const { statistics } = profiler.stop()
  profiler = undefined
  // Allocated = what the heap grew by between collections, plus what it grew by since the last one.
  let bytes = 0
  let after = startUsed
  for (const gc of statistics) {
    bytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after)
    after = gc.afterGC.heapStatistics.usedHeapSize
  }
  bytes += Math.max(0, endUsed - after)
  fs.writeFileSync(out, JSON.stringify({ bytes, collections: statistics.length }))
})
