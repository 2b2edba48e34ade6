/**
 * The rows of a bulk update file: CSV (RFC 4180, with a header row) or JSON Lines, each row a
 * workflow id, an optional version and the fields to change. Pure: bytes in, rows or the first
 * problem (with its line) out, so a file is refused whole before anything is sent.
 */
import type { JsonObject } from "@workflows/domain"
import { Either, Schema } from "effect"

/** The columns a row may have: the id, the version it was read at, and the editable fields. */
export const BULK_COLUMNS = ["id", "version", "title", "name", "description"] as const
export type BulkColumn = (typeof BULK_COLUMNS)[number]
const EDITABLE: ReadonlyArray<BulkColumn> = ["title", "name", "description"]
const COLUMN_LIST = BULK_COLUMNS.join(", ")

export type BulkFormat = "csv" | "jsonl"

/** One row: where it is in the file, which workflow, the `If-Match` version, and the patch to send. */
export interface BulkRow {
  /** The line of the file the row starts on (1-based; a CSV header is line 1). */
  readonly line: number
  readonly id: string
  readonly version: number | undefined
  readonly patch: JsonObject
}

/** Why a file cannot be used at all: its line and column when the problem has one. */
export class BulkFileError extends Schema.TaggedError<BulkFileError>()("BulkFileError", {
  line: Schema.NullOr(Schema.Number),
  column: Schema.NullOr(Schema.String),
  reason: Schema.String
}) {
  override get message(): string {
    const where = [
      this.line === null ? null : `line ${this.line}`,
      this.column === null ? null : `column "${this.column}"`
    ]
      .filter((part) => part !== null)
      .join(", ")
    return where === "" ? this.reason : `${where}: ${this.reason}`
  }
}

const refuse = (line: number | null, column: string | null, reason: string) =>
  Either.left(new BulkFileError({ line, column, reason }))

/** The format a file name implies: `.csv`, or `.jsonl` / `.ndjson`. */
export const formatOfPath = (path: string): BulkFormat | undefined => {
  const lower = path.toLowerCase()
  if (lower.endsWith(".csv")) return "csv"
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl"
  return undefined
}

/** Strict UTF-8 (a mis-encoded file must not turn titles into replacement characters), without a BOM. */
export const decodeUtf8 = (bytes: Uint8Array): Either.Either<string, BulkFileError> =>
  Either.try({
    // `ignoreBOM: false` (the default) drops a leading byte-order mark.
    try: () => new TextDecoder("utf-8", { fatal: true }).decode(bytes),
    catch: () => new BulkFileError({ line: null, column: null, reason: "the file is not valid UTF-8" })
  })

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180)

export interface CsvRecord {
  readonly line: number
  readonly fields: ReadonlyArray<string>
}

/**
 * RFC 4180 records: fields separated by commas, records by CRLF (LF and CR accepted too), a field
 * in double quotes may hold commas, line breaks and `""` for a quote. Stricter than most readers on
 * purpose: a stray quote or an unclosed one is refused with its line instead of shifting columns.
 * Blank lines are skipped. Each record carries the line it starts on.
 */
export const readCsv = (text: string): Either.Either<ReadonlyArray<CsvRecord>, BulkFileError> => {
  const records: Array<CsvRecord> = []
  let fields: Array<string> = []
  let field = ""
  let line = 1
  let recordLine = 1
  let fieldStart = true
  let recordEmpty = true
  const endRecord = () => {
    fields.push(field)
    if (!recordEmpty) records.push({ line: recordLine, fields })
    fields = []
    field = ""
    fieldStart = true
    recordEmpty = true
  }
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === "\"" && fieldStart) {
      const opened = line
      i++
      for (;;) {
        if (i >= text.length) return refuse(opened, null, "a quoted field is not closed (a \" is missing)")
        const q = text[i]!
        if (q === "\"") {
          if (text[i + 1] === "\"") {
            field += "\""
            i += 2
            continue
          }
          i++
          break
        }
        if (q === "\n" || (q === "\r" && text[i + 1] !== "\n")) line++
        field += q
        i++
      }
      const next = text[i]
      if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") {
        return refuse(line, null, "a closing quote must end its field (a \" inside a quoted field is written \"\")")
      }
      fieldStart = false
      recordEmpty = false
      continue
    }
    if (c === ",") {
      fields.push(field)
      field = ""
      fieldStart = true
      recordEmpty = false
      i++
      continue
    }
    if (c === "\r" || c === "\n") {
      endRecord()
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1
      line++
      recordLine = line
      continue
    }
    if (c === "\"") {
      return refuse(line, null, "a quote inside an unquoted field; quote the whole field and write the quote as \"\"")
    }
    field += c
    fieldStart = false
    recordEmpty = false
    i++
  }
  endRecord()
  return Either.right(records)
}

const isBulkColumn = (name: string): name is BulkColumn => (BULK_COLUMNS as ReadonlyArray<string>).includes(name)

/** The columns of a header row, each known and named once, `id` among them and something to change. */
const readHeader = (header: CsvRecord): Either.Either<ReadonlyArray<BulkColumn>, BulkFileError> => {
  const columns: Array<BulkColumn> = []
  for (const raw of header.fields) {
    const name = raw.trim()
    if (!isBulkColumn(name)) {
      return refuse(header.line, name, `unknown column; the columns are ${COLUMN_LIST}`)
    }
    if (columns.includes(name)) return refuse(header.line, name, "the column is named twice")
    columns.push(name)
  }
  if (!columns.includes("id")) {
    return refuse(header.line, "id", `the header has no id column (the columns are ${COLUMN_LIST})`)
  }
  if (!columns.some((c) => EDITABLE.includes(c))) {
    return refuse(header.line, null, "the header names nothing to change: add title, name or description")
  }
  return Either.right(columns)
}

/** A version column value: absent, or the positive integer the row was read at. */
const readVersion = (line: number, value: unknown): Either.Either<number | undefined, BulkFileError> => {
  if (value === undefined || value === null || value === "") return Either.right(undefined)
  const version = typeof value === "string" && /^\s*[0-9]+\s*$/.test(value) ? Number(value) : value
  return typeof version === "number" && Number.isSafeInteger(version) && version >= 1
    ? Either.right(version)
    : refuse(line, "version", "must be a positive integer (the version the row was read at), or empty")
}

const readId = (line: number, value: unknown): Either.Either<string, BulkFileError> =>
  typeof value === "string" && value.trim() !== ""
    ? Either.right(value.trim())
    : refuse(line, "id", "every row needs a workflow id")

/**
 * One CSV data record → a row. An empty cell leaves its field alone (so CSV cannot clear a
 * description: JSON Lines can, with `null`); anything else is sent as written, for the service to judge.
 */
export const csvRow = (
  columns: ReadonlyArray<BulkColumn>,
  record: CsvRecord
): Either.Either<BulkRow, BulkFileError> => {
  if (record.fields.length !== columns.length) {
    return refuse(record.line, null, `${record.fields.length} fields where the header has ${columns.length}`)
  }
  const cell = (column: BulkColumn): string | undefined => {
    const index = columns.indexOf(column)
    return index === -1 ? undefined : record.fields[index]
  }
  const patch: Record<string, string> = {}
  for (const column of EDITABLE) {
    const value = cell(column)
    if (value !== undefined && value.trim() !== "") patch[column] = value
  }
  return Either.gen(function*() {
    const id = yield* readId(record.line, cell("id"))
    const version = yield* readVersion(record.line, cell("version"))
    return { line: record.line, id, version, patch }
  })
}

export const parseCsv = (text: string): Either.Either<ReadonlyArray<BulkRow>, BulkFileError> =>
  Either.gen(function*() {
    const [header, ...records] = yield* readCsv(text)
    if (header === undefined) {
      return yield* refuse(null, null, "the file is empty: its first line must name the columns")
    }
    const columns = yield* readHeader(header)
    const rows: Array<BulkRow> = []
    for (const record of records) rows.push(yield* csvRow(columns, record))
    return rows
  })

// ---------------------------------------------------------------------------------------------
// JSON Lines

/** One JSON Lines object → a row. Values go to the service as they are (`null` clears a description). */
export const jsonRow = (line: number, value: unknown): Either.Either<BulkRow, BulkFileError> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return refuse(line, null, "each line must be a JSON object")
  }
  const object = value as JsonObject
  const patch: Record<string, unknown> = {}
  for (const key of Object.keys(object)) {
    if (!isBulkColumn(key)) return refuse(line, key, `unknown field; the fields are ${COLUMN_LIST}`)
    if (EDITABLE.includes(key)) patch[key] = object[key]
  }
  return Either.gen(function*() {
    const id = yield* readId(line, object["id"])
    const version = yield* readVersion(line, object["version"])
    return { line, id, version, patch }
  })
}

export const parseJsonl = (text: string): Either.Either<ReadonlyArray<BulkRow>, BulkFileError> =>
  Either.gen(function*() {
    const rows: Array<BulkRow> = []
    const lines = text.split("\n")
    for (let index = 0; index < lines.length; index++) {
      const source = lines[index]!
      if (source.trim() === "") continue
      const line = index + 1
      const value = yield* Either.try({
        try: (): unknown => JSON.parse(source),
        catch: () => new BulkFileError({ line, column: null, reason: "not valid JSON" })
      })
      rows.push(yield* jsonRow(line, value))
    }
    return rows
  })

// ---------------------------------------------------------------------------------------------

/** Two rows for one workflow would race each other: the file is refused instead. */
const distinctIds = (rows: ReadonlyArray<BulkRow>): Either.Either<ReadonlyArray<BulkRow>, BulkFileError> => {
  const seen = new Map<string, number>()
  for (const row of rows) {
    const first = seen.get(row.id)
    if (first !== undefined) {
      return refuse(row.line, "id", `${row.id} is already on line ${first}; one row per workflow`)
    }
    seen.set(row.id, row.line)
  }
  return Either.right(rows)
}

/** A whole file: UTF-8 (optional BOM), then every row, or the first reason it cannot be used. */
export const parseBulkFile = (
  bytes: Uint8Array,
  format: BulkFormat
): Either.Either<ReadonlyArray<BulkRow>, BulkFileError> =>
  decodeUtf8(bytes).pipe(
    Either.flatMap((text) => (format === "csv" ? parseCsv(text) : parseJsonl(text))),
    Either.flatMap(distinctIds)
  )
