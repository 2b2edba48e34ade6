import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import {
  FieldError,
  HttpLifecycleAction,
  IdempotencyKeyReused,
  RequestStatus,
  Unauthorized,
  WorkflowNotFound,
  WorkflowPreconditionFailed,
  WorkflowStatus,
  WorkflowStatusConflict,
  WorkflowValidationError
} from "@workflows/domain"
import { Schema } from "effect"

/**
 * Every error leaves the server as an RFC 9457 problem document with a stable `code`.
 * Each schema below maps one tagged error class to its document and back, so handlers fail
 * with domain errors and the typed client receives the same classes; the wire never sees `_tag`.
 */
export const ProblemCode = Schema.Literal(
  "unauthorized",
  "not_found",
  "validation_failed",
  "status_conflict",
  "precondition_failed",
  "payload_too_large",
  "unsupported_media_type",
  "idempotency_key_reused",
  "internal"
)
export type ProblemCode = typeof ProblemCode.Type

export const problemType = (code: ProblemCode): string => `urn:workflows:problem:${code}`

export interface ProblemBody {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: ProblemCode
}

export const problemBody = (status: number, code: ProblemCode, title: string, detail: string): ProblemBody => ({
  type: problemType(code),
  title,
  status,
  detail,
  code
})

const problem = <Self, Encoded, const Code extends ProblemCode, Extra extends Schema.Struct.Fields>(
  error: Schema.Schema<Self, Encoded, never>,
  options: {
    readonly status: number
    readonly code: Code
    readonly title: string
    readonly extra: Extra
    readonly detail: (e: Self) => string
    readonly toExtra: (e: Self) => Schema.Struct.Encoded<Extra>
    readonly fromProblem: (p: Schema.Struct.Type<Extra> & { readonly detail: string }) => Self
  }
) =>
  Schema.transform(
    Schema.Struct({
      // The client takes only this server's problem documents for domain errors: a 404 from
      // anything else (a wrong base URL, another server) is no evidence that a workflow is missing.
      type: Schema.Literal(problemType(options.code)),
      title: Schema.String,
      status: Schema.Literal(options.status),
      detail: Schema.String,
      code: Schema.Literal(options.code),
      ...options.extra
    }),
    Schema.typeSchema(error),
    {
      strict: false,
      decode: (body) => options.fromProblem(body as never),
      encode: (e) => ({
        ...problemBody(options.status, options.code, options.title, options.detail(e)),
        ...options.toExtra(e)
      })
    }
  ).pipe(
    (schema) =>
      schema.annotations({ ...HttpApiSchema.annotations({ status: options.status }), description: options.title }),
    HttpApiSchema.withEncoding({ kind: "Json", contentType: "application/problem+json" })
  )

export const ValidationProblem = problem(WorkflowValidationError, {
  status: 400,
  code: "validation_failed",
  title: "Validation failed",
  extra: { errors: Schema.NonEmptyArray(FieldError) },
  detail: (e) => e.message,
  toExtra: (e) => ({ errors: e.errors }),
  fromProblem: (p) => new WorkflowValidationError({ errors: p.errors })
})

export const UnauthorizedProblem = problem(Unauthorized, {
  status: 401,
  code: "unauthorized",
  title: "Unauthorized",
  extra: {},
  detail: (e) => e.reason,
  toExtra: () => ({}),
  fromProblem: (p) => new Unauthorized({ reason: p.detail })
})

// The body never says whether the id exists in another organization: it only ever echoes the id asked for.
export const NotFoundProblem = problem(WorkflowNotFound, {
  status: 404,
  code: "not_found",
  title: "Not found",
  extra: {},
  detail: () => "No workflow with this id exists.",
  toExtra: () => ({}),
  fromProblem: () => new WorkflowNotFound({ id: "" })
})

// `complete` is internal and never offered over HTTP.
const isHttpLifecycleAction = Schema.is(HttpLifecycleAction)

export const StatusConflictProblem = problem(WorkflowStatusConflict, {
  status: 409,
  code: "status_conflict",
  title: "Status conflict",
  extra: {
    current_status: WorkflowStatus,
    requested_status: RequestStatus,
    allowed_actions: Schema.Array(HttpLifecycleAction)
  },
  detail: (e) =>
    `${e.message} Status changes only through the lifecycle routes (POST /v1/workflows/{id}/activate, pause, resume, cancel).`,
  toExtra: (e) => ({
    current_status: e.current_status,
    requested_status: e.requested_status,
    allowed_actions: e.allowed_actions.filter(isHttpLifecycleAction)
  }),
  fromProblem: (p) =>
    new WorkflowStatusConflict({
      current_status: p.current_status,
      requested_status: p.requested_status,
      allowed_actions: p.allowed_actions
    })
})

export const PreconditionProblem = problem(WorkflowPreconditionFailed, {
  status: 412,
  code: "precondition_failed",
  title: "Precondition failed",
  extra: { current_etag: Schema.String },
  detail: (e) => e.message,
  toExtra: (e) => ({ current_etag: e.current_etag }),
  fromProblem: (p) => new WorkflowPreconditionFailed({ if_match: "", current_etag: p.current_etag })
})

export const IdempotencyProblem = problem(IdempotencyKeyReused, {
  status: 422,
  code: "idempotency_key_reused",
  title: "Idempotency key reused",
  extra: {},
  detail: (e) => e.message,
  toExtra: () => ({}),
  fromProblem: () => new IdempotencyKeyReused({ key: "" })
})

/** The body's media type is not JSON; the response lists the accepted ones in `Accept-Patch`. */
/** `compressed`: the media type may be right, but the body came with a Content-Encoding (RFC 9110 §15.5.16). */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", {
  compressed: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}
export const UnsupportedMediaTypeProblem = problem(UnsupportedMediaType, {
  status: 415,
  code: "unsupported_media_type",
  title: "Unsupported media type",
  extra: {},
  detail: (e) =>
    e.compressed
      ? "The body must be sent without a Content-Encoding: compressed bodies are not accepted."
      : "The body must be sent as application/json or application/merge-patch+json.",
  toExtra: () => ({}),
  fromProblem: () => new UnsupportedMediaType()
})

export class PayloadTooLarge
  extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", { limit: Schema.Number })
{}
export const PayloadTooLargeProblem = problem(PayloadTooLarge, {
  status: 413,
  code: "payload_too_large",
  title: "Payload too large",
  extra: {},
  detail: (e) => `The body must be at most ${e.limit} bytes.`,
  toExtra: () => ({}),
  fromProblem: () => new PayloadTooLarge({ limit: 0 })
})

/** Not declared on any endpoint: written by the edge for defects and readiness, never decoded by the client. */
export const internalProblem = (status: 500 | 503, detail: string): ProblemBody =>
  problemBody(status, "internal", status === 503 ? "Service unavailable" : "Internal server error", detail)

/**
 * The database is down, overloaded or locked: a 503 with `Retry-After` that any route reading it
 * may answer (the edge writes it; the typed client decodes it to this class and reports it as a defect).
 */
export class ServiceUnavailable
  extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", { detail: Schema.String })
{}
export const UnavailableProblem = problem(ServiceUnavailable, {
  status: 503,
  code: "internal",
  title: "Service unavailable",
  extra: {},
  detail: (e) => e.detail,
  toExtra: () => ({}),
  fromProblem: (p) => new ServiceUnavailable({ detail: p.detail })
})

/** Code `not_found` as the contract (docs/CONTRACT.md §5) lists, but its own `type`: no route is not the same problem as no workflow. */
export const routeNotFoundProblem: ProblemBody = {
  ...problemBody(404, "not_found", "Not found", "No route matches this method and path."),
  type: "urn:workflows:problem:no_route"
}

const DomainProblem = Schema.Union(
  ValidationProblem,
  NotFoundProblem,
  StatusConflictProblem,
  PreconditionProblem,
  IdempotencyProblem
)

/**
 * The problem document the server answers for a domain error, for reports that are not HTTP
 * responses (a bulk update's rows): the same `code` and `detail` a client would have read.
 */
export const problemOf: (
  error:
    | WorkflowValidationError
    | WorkflowNotFound
    | WorkflowStatusConflict
    | WorkflowPreconditionFailed
    | IdempotencyKeyReused
) => ProblemBody = Schema.encodeSync(DomainProblem)
