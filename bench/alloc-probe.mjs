// Preload (`node --import ./bench/alloc-probe.mjs …`) used by bench/run.mjs and bench/profile.mjs:
// counts the bytes a server allocates on the JavaScript heap between two SIGUSR2 signals, from
// V8's own heap statistics around every collection (no sampling, no per-allocation cost), and
// writes {"bytes": N, "steps": M} to $ALLOC_PROBE_OUT at the second signal, M being the Effect
// runtime steps every fiber of the process took meanwhile (see `counting`). Not loaded by `workflows serve`.
import { Scheduler } from "effect"
import * as fs from "node:fs"
import { GCProfiler, getHeapStatistics } from "node:v8"

// A fiber asks the scheduler whether to yield once per operation it runs. The default scheduler
// is one object per process (a global value, shared with the server's bundled copy of Effect),
// so counting its answers counts every step of every fiber.
const scheduler = Scheduler.defaultScheduler
const shouldYield = scheduler.shouldYield.bind(scheduler)
let steps = 0
const counting = (fiber) => (steps++, shouldYield(fiber))

const out = process.env.ALLOC_PROBE_OUT
let profiler
let startUsed = 0

process.on("SIGUSR2", () => {
  if (profiler === undefined) {
    startUsed = getHeapStatistics().used_heap_size
    profiler = new GCProfiler()
    profiler.start()
    steps = 0
    scheduler.shouldYield = counting
    fs.writeFileSync(`${out}.started`, "")
    return
  }
  const endUsed = getHeapStatistics().used_heap_size
  const { statistics } = profiler.stop()
  scheduler.shouldYield = shouldYield
  profiler = undefined
  // Allocated = what the heap grew by between collections, plus what it grew by since the last one.
  let bytes = 0
  let after = startUsed
  for (const gc of statistics) {
    bytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after)
    after = gc.afterGC.heapStatistics.usedHeapSize
  }
  bytes += Math.max(0, endUsed - after)
  fs.writeFileSync(out, JSON.stringify({ bytes, collections: statistics.length, steps }))
})
