import * as Effect from "effect/Effect"
import { setFlagsFromString } from "node:v8"

const FLAG = "--heap-growing-percent"

/**
 * Between full collections V8 lets the old generation grow to up to four times what survived the
 * last one; request garbage promoted under load then piles up. Growing by half collects it sooner
 * (docs/DECISIONS.md has the measurements). V8 reads the flag at each full collection, so setting
 * it here takes effect. A value given on the command line or in NODE_OPTIONS wins.
 */
export const tuneHeapForServing = Effect.sync(() => {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((arg) =>
    arg.replace(/_/g, "-").startsWith(FLAG)
  )
  if (!given) setFlagsFromString(`${FLAG}=50`)
})
