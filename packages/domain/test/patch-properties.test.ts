import { describe, expect, it } from "@effect/vitest"
import {
  applyPatch,
  decodeNewWorkflow,
  decodePatch,
  OrganizationId,
  Workflow,
  WorkflowId,
  type WorkflowStatus
} from "@workflows/domain"
import { DateTime, Either } from "effect"
import * as fc from "effect/FastCheck"

const STATUSES: ReadonlyArray<WorkflowStatus> = ["draft", "active", "running", "paused", "completed", "cancelled"]
const canonical = (s: WorkflowStatus) => (s === "running" ? "active" : s)

// Small pools so that patches often hit the stored values (echoes, no-ops) as well as new ones.
const TITLES = ["Lead Nurture", "Q3 Outreach", "😀 Win-back", "Renewals"]
const DESCRIPTIONS = [null, "Calls cold leads.", "Line one\nLine two\ttabbed"]

const instant = fc.date({
  min: new Date("2000-01-01T00:00:00Z"),
  max: new Date("2099-12-31T23:59:59Z"),
  noInvalidDate: true
})

const paddedText = (text: string) => fc.constantFrom(text, ` ${text}`, `\t${text}  `, `${text}\n`)
const titleValue = fc.oneof(fc.constantFrom(...TITLES), fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }))
  .filter(
    (t) => t.trim().length > 0 && !/\p{Cc}/u.test(t)
  ).chain(paddedText)
const descriptionValue = fc.oneof(
  fc.constantFrom<string | null>(...DESCRIPTIONS, "", "   "),
  fc.string({ unit: "grapheme", maxLength: 60 }).filter((d) => !/(?![\n\r\t])\p{Cc}/u.test(d))
)

const storedWorkflow = fc
  .record({
    suffix: fc.stringMatching(/^[a-z0-9]{12}$/),
    title: fc.constantFrom(...TITLES),
    description: fc.constantFrom(...DESCRIPTIONS),
    status: fc.constantFrom(...STATUSES),
    node_count: fc.nat({ max: 50 }),
    edge_count: fc.nat({ max: 50 }),
    enrolled_leads: fc.nat({ max: 5000 }),
    version: fc.integer({ min: 1, max: 1000 }),
    created_at: instant,
    updated_at: instant
  })
  .map(
    (r) =>
      new Workflow({
        id: WorkflowId.make(`wfl_${r.suffix}`),
        organization_id: OrganizationId.make("org_acme"),
        title: r.title,
        description: r.description,
        status: r.status,
        node_count: r.node_count,
        edge_count: r.edge_count,
        enrolled_leads: r.enrolled_leads,
        version: r.version,
        created_at: DateTime.unsafeFromDate(r.created_at),
        updated_at: DateTime.unsafeFromDate(r.updated_at)
      })
  )

const iso = (dt: DateTime.Utc) => DateTime.formatIso(dt)

/** A read-only value: mostly the stored one (an echo), sometimes another well-typed value. */
const echoOr = <A>(stored: A, other: fc.Arbitrary<A>) =>
  fc.oneof({ weight: 9, arbitrary: fc.constant(stored) }, { weight: 1, arbitrary: other })

/** Any body that may decode, built around a stored record. */
const anyPatchFor = (w: Workflow) =>
  fc.record(
    {
      title: titleValue,
      name: fc.oneof(titleValue, fc.constant(w.title)),
      description: descriptionValue,
      status: fc.oneof(
        { weight: 4, arbitrary: fc.constant(canonical(w.status)) },
        { weight: 1, arbitrary: fc.constantFrom("draft", "active", "paused", "completed", "cancelled") }
      ),
      id: echoOr<string>(w.id, fc.constant("wfl_somethingelse")),
      organization_id: echoOr<string>(w.organization_id, fc.constant("org_other")),
      version: echoOr(w.version, fc.integer({ min: 1, max: 2000 })),
      node_count: echoOr(w.node_count, fc.nat({ max: 60 })),
      edge_count: echoOr(w.edge_count, fc.nat({ max: 60 })),
      enrolled_leads: echoOr(w.enrolled_leads, fc.nat({ max: 6000 })),
      created_at: echoOr(iso(w.created_at), instant.map((d) => d.toISOString())),
      updated_at: echoOr(iso(w.updated_at), instant.map((d) => d.toISOString()))
    },
    { requiredKeys: [] }
  )

/**
 * A patch that a client could safely retry: editable fields (title or name, or both with one
 * value), status echoed, and only the read-only fields a write never moves.
 * Excluded on purpose: `version`/`updated_at` (a write moves them, so a retry carrying the old
 * values is a 400 by docs/CONTRACT.md §2 step 7), and title ≠ name with one of them echoing the stored title
 * (the contract's echo rule is relative to the stored title, so a retry of such a body flips it back).
 */
const retryablePatchFor = (w: Workflow) =>
  fc
    .record(
      {
        text: fc.record(
          {
            title: titleValue,
            description: descriptionValue
          },
          { requiredKeys: [] }
        ),
        titleAs: fc.constantFrom("title", "name", "both"),
        status: fc.boolean(),
        id: fc.boolean(),
        organization_id: fc.boolean(),
        created_at: fc.boolean(),
        counts: fc.boolean()
      }
    )
    .filter(({ text }) => text.title !== undefined || text.description !== undefined)
    .map(({ counts, created_at, id, organization_id, status, text, titleAs }) => ({
      ...(text.title === undefined
        ? {}
        : titleAs === "both"
        ? { title: text.title, name: text.title.trim() }
        : { [titleAs]: text.title }),
      ...(text.description === undefined ? {} : { description: text.description }),
      ...(status ? { status: canonical(w.status) } : {}),
      ...(id ? { id: w.id } : {}),
      ...(organization_id ? { organization_id: w.organization_id } : {}),
      ...(created_at ? { created_at: iso(w.created_at) } : {}),
      ...(counts ? { node_count: w.node_count, edge_count: w.edge_count, enrolled_leads: w.enrolled_leads } : {})
    }))

const withPatch = (patchFor: (w: Workflow) => fc.Arbitrary<Record<string, unknown>>) =>
  storedWorkflow.chain((w) => patchFor(w).map((body) => ({ stored: w, body })))

const NOW = DateTime.unsafeMake("2100-06-01T00:00:00.000Z")

const decodeOrThrow = (body: unknown) => {
  const decoded = decodePatch(body)
  if (Either.isLeft(decoded)) throw new Error(`generator produced an invalid body: ${decoded.left.message}`)
  return decoded.right
}

describe("patch properties", () => {
  it.prop(
    "applying a retryable patch twice equals applying it once",
    [withPatch(retryablePatchFor)],
    ([{ body, stored }]) => {
      const patch = decodeOrThrow(body)
      const once = applyPatch(stored, patch, NOW)
      expect(Either.isRight(once)).toBe(true)
      if (Either.isLeft(once)) return
      const afterOnce = once.right.workflow
      const twice = applyPatch(afterOnce, patch, DateTime.unsafeMake("2100-06-02T00:00:00.000Z"))
      expect(Either.isRight(twice)).toBe(true)
      if (Either.isRight(twice)) {
        expect(twice.right._tag).toBe("Unchanged")
        expect(twice.right.workflow).toBe(afterOnce)
      }
    }
  )

  it.prop(
    "a patch never changes id, organization_id, status, created_at or counts; version and updated_at move only on a change",
    [withPatch(anyPatchFor)],
    ([{ body, stored }]) => {
      const decoded = decodePatch(body)
      if (Either.isLeft(decoded)) {
        // Only bodies with no field at all fail here, and the generator may build one.
        expect(Object.keys(body)).toEqual([])
        return
      }
      const outcome = applyPatch(stored, decoded.right, NOW)
      if (Either.isLeft(outcome)) return
      const { workflow } = outcome.right
      expect(workflow.id).toBe(stored.id)
      expect(workflow.organization_id).toBe(stored.organization_id)
      expect(workflow.status).toBe(stored.status)
      expect(iso(workflow.created_at)).toBe(iso(stored.created_at))
      expect(workflow.node_count).toBe(stored.node_count)
      expect(workflow.edge_count).toBe(stored.edge_count)
      expect(workflow.enrolled_leads).toBe(stored.enrolled_leads)
      const somethingChanged = workflow.title !== stored.title || workflow.description !== stored.description
      if (outcome.right._tag === "Changed") {
        expect(somethingChanged).toBe(true)
        expect(workflow.version).toBe(stored.version + 1)
        expect(iso(workflow.updated_at)).toBe(iso(NOW))
        const changes = outcome.right.changes
        expect(Object.keys(changes).length).toBeGreaterThan(0)
        for (const [field, change] of Object.entries(changes)) {
          expect(["title", "description"]).toContain(field)
          expect(change.from).toBe(stored[field as "title" | "description"])
          expect(change.to).toBe(workflow[field as "title" | "description"])
          expect(change.from).not.toBe(change.to)
        }
      } else {
        expect(somethingChanged).toBe(false)
        expect(workflow.version).toBe(stored.version)
        expect(iso(workflow.updated_at)).toBe(iso(stored.updated_at))
      }
    },
    { fastCheck: { numRuns: 500 } }
  )

  it.prop(
    "a status different from the stored one is always a conflict, whatever else the body holds",
    [withPatch(anyPatchFor)],
    ([{ body, stored }]) => {
      const decoded = decodePatch(body)
      if (Either.isLeft(decoded) || decoded.right.status === undefined) return
      const outcome = applyPatch(stored, decoded.right, NOW)
      const differs = canonical(stored.status) !== decoded.right.status
      expect(Either.isLeft(outcome) && outcome.left._tag === "WorkflowStatusConflict").toBe(differs)
    }
  )

  const expectWellFormedOutcome = (input: unknown) => {
    let decoded: ReturnType<typeof decodePatch> | undefined
    expect(() => {
      decoded = decodePatch(input)
    }).not.toThrow()
    expect(decoded).toBeDefined()
    if (decoded === undefined || Either.isRight(decoded)) return
    const errors = decoded.left.errors
    expect(errors.length).toBeGreaterThan(0)
    for (const error of errors) {
      expect(error.field === null || typeof error.field === "string").toBe(true)
      expect(typeof error.message).toBe("string")
      expect(error.message.length).toBeGreaterThan(0)
    }
  }

  it.prop("decodePatch never throws on any value", [
    fc.anything({
      withNullPrototype: true,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withBigInt: true,
      withDate: true
    })
  ], ([input]) => expectWellFormedOutcome(input))

  it.prop(
    "decodePatch never throws on any parsed JSON",
    [fc.json()],
    ([text]) => expectWellFormedOutcome(JSON.parse(text))
  )

  it.prop(
    "decodePatch never throws on objects with arbitrary keys and values",
    [fc.dictionary(
      fc.oneof(
        fc.string(),
        fc.constantFrom("title", "name", "description", "status", "version", "created_at", "__proto__", "constructor")
      ),
      fc.jsonValue()
    )],
    ([body]) => expectWellFormedOutcome(JSON.parse(JSON.stringify(body)))
  )

  const distinctive = fc.stringMatching(/^[a-z0-9]{16}$/).map((s) => `Zq${s}`)

  it.prop("error messages never contain the rejected value", [distinctive], ([value]) => {
    const body = {
      title: `${value}\u0007`,
      name: value.repeat(20),
      description: `${value}\u0000`,
      status: value,
      version: value,
      node_count: value,
      created_at: value,
      updated_at: `2024-01-01T00:00:00Z${value}`
    }
    const decoded = decodePatch(body)
    expect(Either.isLeft(decoded)).toBe(true)
    if (Either.isRight(decoded)) return
    expect(decoded.left.errors).toHaveLength(Object.keys(body).length)
    for (const error of decoded.left.errors) expect(error.message).not.toContain(value)
    expect(decoded.left.message).not.toContain(value)

    const created = decodeNewWorkflow({
      title: `${value}\u0085`,
      description: `${value}\u007f`,
      status: value,
      version: value
    })
    expect(Either.isLeft(created)).toBe(true)
    if (Either.isLeft(created)) {
      expect(created.left.errors.length).toBeGreaterThanOrEqual(4)
      for (const error of created.left.errors) expect(error.message).not.toContain(value)
    }
  })

  it.prop(
    "a read-only mismatch message does not echo the value sent",
    [storedWorkflow, distinctive],
    ([stored, value]) => {
      // Well-formed ids, so they pass step 3 and are compared with the stored ones at step 7.
      const outcome = applyPatch(
        stored,
        decodeOrThrow({ title: "x", id: `wfl_${value}`, organization_id: `org_${value}` }),
        NOW
      )
      expect(Either.isLeft(outcome)).toBe(true)
      if (Either.isLeft(outcome)) {
        expect(outcome.left._tag).toBe("WorkflowValidationError")
        if (outcome.left._tag === "WorkflowValidationError") {
          expect(outcome.left.errors.map((e) => e.field)).toEqual(["id", "organization_id"])
        }
        expect(outcome.left.message).not.toContain(value)
      }
    }
  )
})
