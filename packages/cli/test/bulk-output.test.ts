import { describe, expect, it } from "@effect/vitest"
import { bulkFailure, bulkProgress, bulkSummary } from "../src/Output.js"

describe("update --from output", () => {
  const counts = { updated: 30, unchanged: 0, failed: 2, would_update: 0, would_fail: 0 }

  it("the summary line, for a run and a dry run", () => {
    expect(bulkSummary(counts, false)).toBe("30 updated, 0 unchanged, 2 failed")
    expect(bulkSummary({ ...counts, would_update: 4, would_fail: 1, unchanged: 3 }, true)).toBe(
      "4 would update, 3 unchanged, 1 would fail (dry run: nothing was written)"
    )
  })

  it("a failed row on one line, control characters escaped", () => {
    expect(
      bulkFailure({
        line: 7,
        id: "wfl_a",
        outcome: "would_fail",
        code: "validation_failed",
        message: "title: bad\nvalue"
      })
    ).toBe(
      "line 7  wfl_a  would fail  validation_failed: title: bad\\nvalue"
    )
  })

  it("progress: count, rate and the time left at that rate", () => {
    expect(bulkProgress(0, 1000, 0)).toBe(`[${".".repeat(24)}] 0/1000 rows  0.0/s  ETA –`)
    expect(bulkProgress(250, 1000, 10_000)).toBe(`[${"#".repeat(6)}${".".repeat(18)}] 250/1000 rows  25.0/s  ETA 0:30`)
    expect(bulkProgress(100, 100_000, 1_000)).toMatch(/100\/100000 rows {2}100\.0\/s {2}ETA 16:39$/)
    expect(bulkProgress(100, 1_000_000, 1_000)).toMatch(/ETA 2:46:39$/)
    expect(bulkProgress(1000, 1000, 40_000)).toMatch(/^\[#{24}\] 1000\/1000 rows {2}25\.0\/s {2}ETA 0:00$/)
  })
})
