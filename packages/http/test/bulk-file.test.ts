import { describe, expect, it } from "@effect/vitest"
import { BulkFile } from "@workflows/http"
import { Either } from "effect"
import * as fc from "effect/FastCheck"

/** The file's rows, or the test fails with the file's error. */
const rows = (text: string, format: BulkFile.BulkFormat = "csv") => {
  const parsed = BulkFile.parseBulkFile(new TextEncoder().encode(text), format)
  if (Either.isLeft(parsed)) throw new Error(`refused: ${parsed.left.message}`)
  return parsed.right
}

/** The reason a file is refused, as the CLI would print it. */
const refusal = (input: string | Uint8Array, format: BulkFile.BulkFormat = "csv") => {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input
  return Either.match(BulkFile.parseBulkFile(bytes, format), { onLeft: (e) => e.message, onRight: () => "accepted" })
}

/** RFC 4180 writing: a field with a comma, quote or line break is quoted, quotes doubled. */
const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, "\"\"")}"` : value)

describe("CSV (RFC 4180)", () => {
  it("reads quoted fields: commas, doubled quotes, line breaks; rows keep the line they start on", () => {
    const text = [
      "id,title,description",
      "wfl_a,\"Renewals, EMEA\",\"She said \"\"call me\"\"\"",
      "wfl_b,Plain,\"two",
      "lines\"",
      "wfl_c,\"\",\"\""
    ].join("\r\n") + "\r\n"
    expect(rows(text)).toEqual([
      {
        line: 2,
        id: "wfl_a",
        version: undefined,
        patch: { title: "Renewals, EMEA", description: "She said \"call me\"" }
      },
      { line: 3, id: "wfl_b", version: undefined, patch: { title: "Plain", description: "two\r\nlines" } },
      { line: 5, id: "wfl_c", version: undefined, patch: {} }
    ])
  })

  it("accepts a BOM, LF endings, no final newline, blank lines, columns in any order; empty cells leave fields alone", () => {
    const text = "\uFEFFtitle,version,id\n\nÉté 😀,3,wfl_a\n,,wfl_b\n   ,7, wfl_c "
    expect(rows(text)).toEqual([
      { line: 3, id: "wfl_a", version: 3, patch: { title: "Été 😀" } },
      { line: 4, id: "wfl_b", version: undefined, patch: {} },
      { line: 5, id: "wfl_c", version: 7, patch: {} }
    ])
  })

  it("reads back any table written by the RFC's rules", () => {
    const cell = fc.string({ unit: "grapheme", maxLength: 12 })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(cell, cell, cell), { maxLength: 8 }),
        fc.constantFrom("\r\n", "\n"),
        (table, eol) => {
          const text = ["title,id,description", ...table.map((row) => row.map(csvField).join(","))].join(eol)
          const records = BulkFile.readCsv(text)
          expect(Either.getOrThrow(records).map((r) => r.fields)).toEqual([["title", "id", "description"], ...table])
        }
      )
    )
  })

  it("refuses a file it cannot read without guessing, naming the line and column", () => {
    expect(refusal("")).toBe("the file is empty: its first line must name the columns")
    expect(refusal("title,description\nx,y")).toMatch(/^line 1, column "id": the header has no id column/)
    expect(refusal("id,titel\nwfl_a,x")).toBe(
      "line 1, column \"titel\": unknown column; the columns are id, version, title, name, description"
    )
    expect(refusal("id,title,status\nwfl_a,x,active")).toMatch(/^line 1, column "status": unknown column/)
    expect(refusal("id,title,title\nwfl_a,x,y")).toBe("line 1, column \"title\": the column is named twice")
    expect(refusal("id,version\nwfl_a,3")).toMatch(/^line 1: the header names nothing to change/)
    expect(refusal("id,title\nwfl_a,x\nwfl_b,\"open\nstill open")).toBe(
      "line 3: a quoted field is not closed (a \" is missing)"
    )
    expect(refusal("id,title\nwfl_a,ab\"c\"")).toMatch(/^line 2: a quote inside an unquoted field/)
    expect(refusal("id,title\nwfl_a,\"ab\"c")).toMatch(/^line 2: a closing quote must end its field/)
    expect(refusal("id,title\nwfl_a,x,extra")).toBe("line 2: 3 fields where the header has 2")
    expect(refusal("id,title\n,x")).toBe("line 2, column \"id\": every row needs a workflow id")
    expect(refusal("id,title,version\nwfl_a,x,v3")).toMatch(/^line 2, column "version": must be a positive integer/)
    expect(refusal("id,title,version\nwfl_a,x,0")).toMatch(/^line 2, column "version"/)
    expect(refusal("id,title\nwfl_a,x\nwfl_b,y\nwfl_a,z")).toBe(
      "line 4, column \"id\": wfl_a is already on line 2; one row per workflow"
    )
    expect(refusal(new Uint8Array([...new TextEncoder().encode("id,title\nwfl_a,"), 0xc3, 0x28]))).toBe(
      "the file is not valid UTF-8"
    )
  })
})

describe("JSON Lines", () => {
  it("one object per line: values as written, null clears a description, blank lines skipped", () => {
    const text = [
      "{\"id\":\"wfl_a\",\"title\":\"Renewals, \\\"EMEA\\\"\",\"version\":4}",
      "",
      "{\"id\":\"wfl_b\",\"description\":null,\"name\":\"Win-back\"}\r",
      "{\"id\":\"wfl_c\",\"title\":42}"
    ].join("\n")
    expect(rows(text, "jsonl")).toEqual([
      { line: 1, id: "wfl_a", version: 4, patch: { title: "Renewals, \"EMEA\"" } },
      { line: 3, id: "wfl_b", version: undefined, patch: { description: null, name: "Win-back" } },
      // Types are the service's to judge: the row fails on its own, the file is still usable.
      { line: 4, id: "wfl_c", version: undefined, patch: { title: 42 } }
    ])
  })

  it("refuses a line that is not a usable object, naming it", () => {
    expect(refusal("{\"id\":\"wfl_a\",\"title\":\"x\"}\n{\"id\":\"wfl_b\",", "jsonl")).toBe("line 2: not valid JSON")
    expect(refusal("[1,2]", "jsonl")).toBe("line 1: each line must be a JSON object")
    expect(refusal("{\"id\":\"wfl_a\",\"status\":\"active\"}", "jsonl")).toMatch(
      /^line 1, column "status": unknown field/
    )
    expect(refusal("{\"title\":\"x\"}", "jsonl")).toBe("line 1, column \"id\": every row needs a workflow id")
    expect(refusal("{\"id\":7,\"title\":\"x\"}", "jsonl")).toMatch(/^line 1, column "id"/)
    expect(refusal("{\"id\":\"wfl_a\",\"version\":\"3\"}", "jsonl")).toBe("accepted")
    expect(refusal("{\"id\":\"wfl_a\",\"version\":1.5}", "jsonl")).toMatch(/^line 1, column "version"/)
  })
})

describe("format from the file name", () => {
  it("knows .csv, .jsonl and .ndjson, in any case, and nothing else", () => {
    expect(["a.csv", "A.CSV", "b.jsonl", "c.ndjson", "d.json", "e.txt", "-"].map(BulkFile.formatOfPath)).toEqual([
      "csv",
      "csv",
      "jsonl",
      "jsonl",
      undefined,
      undefined,
      undefined
    ])
  })
})
