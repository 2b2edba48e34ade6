import { Schema } from "effect"
import { DESCRIPTION_MAX, REASON_MAX, TITLE_MAX } from "./Constants.js"

/**
 * The rules for the free-text fields, shared by create, update and lifecycle calls so all treat
 * text alike. Lengths count Unicode code points (as JSON Schema's `maxLength` does), every
 * comparison uses the trimmed value, and messages name the rule, never the rejected value.
 */

const codePoints = (s: string): number => {
  let n = 0
  for (const _ of s) n++
  return n
}

const CONTROL = /\p{Cc}/u
// Prose (a description, a reason): line breaks and tabs are welcome, other control characters are not.
const CONTROL_EXCEPT_WHITESPACE = /(?![\n\r\t])\p{Cc}/u
// JSON can carry half of a UTF-16 surrogate pair (`"\ud800"`): no character, and not storable
// as UTF-8 (it would come back as U+FFFD, so a repeat of the same request would never be a no-op).
const LONE_SURROGATE = /\p{Cs}/u

const NOT_TEXT = "must be valid Unicode text (it holds half of a UTF-16 surrogate pair)"
// Bounds the untrimmed text, the nearest a JSON Schema can state (padding past the bound is the one
// case the document refuses that the service accepts).
const atMost = (max: number) => ({
  message: () => `must be at most ${max} characters after trimming`,
  jsonSchema: { maxLength: max }
})

/** A title: 1–200 characters after trimming, no control character. Stored and compared trimmed. */
export const Title = Schema.transform(
  Schema.String.annotations({
    message: (issue) =>
      issue.actual === null ? `must not be null; send a title of 1 to ${TITLE_MAX} characters` : "must be a string"
  }).pipe(
    Schema.filter((s) => s.trim().length > 0, {
      message: () => "must not be blank",
      jsonSchema: { minLength: 1, pattern: "\\S" }
    }),
    Schema.filter((s) => codePoints(s.trim()) <= TITLE_MAX, atMost(TITLE_MAX)),
    Schema.filter((s) => !CONTROL.test(s.trim()), { message: () => "must not contain control characters" }),
    Schema.filter((s) => !LONE_SURROGATE.test(s), {
      message: () => NOT_TEXT,
      description: `Display name, 1–${TITLE_MAX} characters after trimming, no control characters.`
    })
  ),
  Schema.String,
  { strict: true, decode: (s) => s.trim(), encode: (s) => s }
)

/** Prose: `null` or a blank string means none (stored as `null`); newlines and tabs allowed. */
const prose = (max: number, typeMessage: string, description: string) =>
  Schema.transform(
    Schema.NullOr(Schema.String).annotations({ message: () => ({ message: typeMessage, override: true }) }).pipe(
      Schema.filter((s) => s === null || codePoints(s.trim()) <= max, atMost(max)),
      Schema.filter((s) => s === null || !CONTROL_EXCEPT_WHITESPACE.test(s.trim()), {
        message: () => "must not contain control characters other than newline, carriage return and tab"
      }),
      Schema.filter((s) => s === null || !LONE_SURROGATE.test(s), { message: () => NOT_TEXT, description })
    ),
    Schema.NullOr(Schema.String),
    {
      strict: true,
      decode: (s) => (s === null || s.trim().length === 0 ? null : s.trim()),
      encode: (s) => s
    }
  )

export const DESCRIPTION_DOC =
  `At most ${DESCRIPTION_MAX} characters after trimming; \`null\` or blank clears it. Newlines and tabs allowed.`
export const Description = prose(DESCRIPTION_MAX, "must be a string or null", DESCRIPTION_DOC)

/** A lifecycle call's reason is prose like a description, with a shorter bound; it is recorded on the audit event. */
export const Reason = prose(
  REASON_MAX,
  "must be a string",
  `Why, at most ${REASON_MAX} characters after trimming; recorded on the audit event.`
)
