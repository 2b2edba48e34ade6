/**
 * What an unknown query parameter is told, whatever its name. (The parsed query is a
 * prototype-free object that the dispatch decodes as it is, so `?__proto__=x` is an own, unknown
 * property like any other; HttpApiBuilder copied it onto a plain object first, where it was lost.)
 */
export const UNKNOWN_PARAMETER = "is not a known parameter"
