import { describe, expect, it } from "@effect/vitest"
import { requestIdFrom } from "@workflows/http"

describe("a request's id", () => {
  it("is the caller's X-Request-Id when it is sane", () => {
    expect(requestIdFrom("ops-trace-42")).toBe("ops-trace-42")
  })

  it("is otherwise a fresh req_ id of 128 random bits, never the same twice (across many refills of its pool)", () => {
    const ids = new Set<string>()
    for (let i = 0; i < 5_000; i++) {
      const id = requestIdFrom(i % 2 === 0 ? undefined : "not sane!")
      expect(id).toMatch(/^req_[0-9a-f]{32}$/)
      ids.add(id)
    }
    expect(ids.size).toBe(5_000)
  })
})
