import * as Effect from "effect/Effect"
import { setFlagsFromString } from "node:v8"

/**
 * V8 settings for serving, each read at every collection, so setting them here takes effect
 * (docs/DECISIONS.md has the measurements). A flag given on the command line wins, in either
 * form (`--heap-growing-percent=N`, `--allocation-site-pretenuring`).
 */
const SERVING_FLAGS: ReadonlyArray<{ readonly name: string; readonly setting: string }> = [
  // Between full collections V8 lets the old generation grow to up to four times what survived the
  // last one; request garbage promoted under load then piles up. Growing by half collects it sooner.
  { name: "heap-growing-percent", setting: "--heap-growing-percent=50" },
  // Under concurrent load each request's objects are still alive at the next minor collection, so
  // V8 learns to allocate them straight in the old generation, where they die and wait for a full one.
  { name: "allocation-site-pretenuring", setting: "--no-allocation-site-pretenuring" }
]

export const tuneHeapForServing = Effect.sync(() => {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].map((arg) =>
    arg.replace(/_/g, "-")
  )
  for (const { name, setting } of SERVING_FLAGS) {
    if (!given.some((arg) => arg.startsWith(`--${name}`) || arg.startsWith(`--no-${name}`))) {
      setFlagsFromString(setting)
    }
  }
})
