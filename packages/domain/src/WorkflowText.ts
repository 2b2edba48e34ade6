import { Either } from "effect"

/**
 * The rules for the two free-text fields, shared by create and update so both treat
 * text alike. Lengths count Unicode code points, not UTF-16 units, and every comparison
 * uses the trimmed value. Messages name the rule, never the rejected value.
 */
export const TITLE_MAX = 200
export const DESCRIPTION_MAX = 2000

const codePoints = (s: string): number => {
  let n = 0
  for (const _ of s) n++
  return n
}

const CONTROL = /\p{Cc}/u
// A description is prose: line breaks and tabs are welcome, other control characters are not.
const CONTROL_EXCEPT_WHITESPACE = /(?![\n\r\t])\p{Cc}/u
// JSON can carry half of a UTF-16 surrogate pair (`"\ud800"`): no character, and not storable
// as UTF-8 (it would come back as U+FFFD, so a repeat of the same request would never be a no-op).
const LONE_SURROGATE = /\p{Cs}/u
const NOT_TEXT = "must be valid Unicode text (it holds half of a UTF-16 surrogate pair)"

export const decodeTitle = (value: unknown): Either.Either<string, string> => {
  if (value === null) return Either.left("must not be null; send a title of 1 to 200 characters")
  if (typeof value !== "string") return Either.left("must be a string")
  const title = value.trim()
  if (title.length === 0) return Either.left("must not be blank")
  if (codePoints(title) > TITLE_MAX) return Either.left(`must be at most ${TITLE_MAX} characters after trimming`)
  if (CONTROL.test(title)) return Either.left("must not contain control characters")
  if (LONE_SURROGATE.test(title)) return Either.left(NOT_TEXT)
  return Either.right(title)
}

/** `null` or a blank string clears the description; it is stored as `null` either way. */
export const decodeDescription = (value: unknown): Either.Either<string | null, string> => {
  if (value === null) return Either.right(null)
  if (typeof value !== "string") return Either.left("must be a string or null")
  const description = value.trim()
  if (description.length === 0) return Either.right(null)
  if (codePoints(description) > DESCRIPTION_MAX) {
    return Either.left(`must be at most ${DESCRIPTION_MAX} characters after trimming`)
  }
  if (CONTROL_EXCEPT_WHITESPACE.test(description)) {
    return Either.left("must not contain control characters other than newline, carriage return and tab")
  }
  if (LONE_SURROGATE.test(description)) return Either.left(NOT_TEXT)
  return Either.right(description)
}
