import { describe, expect, it } from "@effect/vitest"
import { base36, isWorkflowId, newEventId, newWorkflowId, WorkflowId } from "@workflows/domain"
import { Schema } from "effect"
import { randomBytes } from "node:crypto"

/** A byte source that replays `bytes` in a loop: the same input always gives the same id. */
const replaying = (bytes: ReadonlyArray<number>) => {
  let next = 0
  return (n: number) => Uint8Array.from({ length: n }, () => bytes[next++ % bytes.length]!)
}

describe("workflow ids", () => {
  it("a new id is wfl_ and 12 lowercase base-36 characters", () => {
    const ids = Array.from({ length: 200 }, () => newWorkflowId(randomBytes))
    for (const id of ids) {
      expect(id).toMatch(/^wfl_[0-9a-z]{12}$/)
      expect(isWorkflowId(id)).toBe(true)
    }
    expect(new Set(ids).size).toBe(ids.length)
  })

  it("event ids are evt_ and 16 lowercase base-36 characters", () => {
    expect(newEventId(randomBytes)).toMatch(/^evt_[0-9a-z]{16}$/)
  })

  it("the format is a pure function of the bytes: byte b < 252 is character b mod 36, bytes ≥ 252 are skipped", () => {
    expect(newWorkflowId(replaying([0, 35, 36, 251, 252, 255, 10]))).toBe("wfl_0z0za0z0za0z")
    expect(newWorkflowId(replaying([0, 35, 36, 251, 252, 255, 10]))).toBe(
      newWorkflowId(replaying([0, 35, 36, 251, 252, 255, 10]))
    )
    expect(base36(5, replaying([255, 254, 253, 252, 1]))).toBe("11111")
  })

  it("every base-36 character is about equally likely", () => {
    const counts = new Map<string, number>()
    for (const char of base36(36_000, randomBytes)) counts.set(char, (counts.get(char) ?? 0) + 1)
    expect(counts.size).toBe(36)
    for (const count of counts.values()) expect(count).toBeGreaterThan(800) // expected 1,000 each
  })

  it.each(["wfl_m3v7zb9rk2px", "wf_abc123", "wf_ABC", `wfl_${"a".repeat(64)}`])("%s is a valid id", (id) => {
    expect(isWorkflowId(id)).toBe(true)
    expect(Schema.decodeUnknownSync(WorkflowId)(id)).toBe(id)
  })

  it.each(["", "wfl_", "wfx_abc", "wfl_abc-def", "wfl_abc def", `wfl_${"a".repeat(65)}`, "WFL_abc", "../wfl_abc", 42])(
    "%j is not a valid id",
    (id) => {
      expect(isWorkflowId(id)).toBe(false)
    }
  )
})
