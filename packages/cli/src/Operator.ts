/**
 * Operator handlers (`serve`, `migrate`, `keys …`): they act on the database directly. Loaded only
 * when one of them runs; `keys` and `migrate` load the storage layer, only `serve` the server stack.
 */
import { isOrganizationId, type OrganizationId } from "@workflows/domain"
import type { ApiKeys, Sql } from "@workflows/http/storage"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { existsSync } from "node:fs"
import { NotFound, UsageError } from "./Failure.js"
import { tuneHeapForServing } from "./HeapTuning.js"
import * as Output from "./Output.js"

/** The database layer (migrations included) and the API key store. */
const storage = Effect.promise(() => import("@workflows/http/storage"))

/** Everything `serve` runs: the HTTP server and its docs assets, which no other command needs. */
const server = Effect.promise(() => import("@workflows/http/server"))

type SqlModule = Effect.Effect.Success<typeof storage>["Sql"]

/** `--database` when given, else `DATABASE_URL`, else the embedded default. */
const resolveDatabase = (
  sql: SqlModule,
  flag: Option.Option<string>
): Effect.Effect<Sql.Database, ConfigError.ConfigError> =>
  Option.match(flag, {
    onNone: () => sql.DatabaseConfig,
    onSome: (url) =>
      Either.mapLeft(sql.parseDatabaseUrl(url), (message) => ConfigError.InvalidData(["--database"], message))
  })

export const serve = (
  input: { readonly port: number; readonly host: string; readonly database: Option.Option<string> }
) =>
  Effect.gen(function*() {
    yield* tuneHeapForServing
    const [{ Sql }, { ServerLive }] = yield* Effect.all([storage, server])
    const database = yield* resolveDatabase(Sql, input.database)
    return yield* Layer.launch(ServerLive({ port: input.port, host: input.host, database }))
  })

export const migrate = (input: { readonly database: Option.Option<string> }) =>
  Effect.gen(function*() {
    const { Sql } = yield* storage
    const database = yield* resolveDatabase(Sql, input.database)
    // Building the client layer applies every pending migration; the scope closes the connection.
    yield* Effect.scoped(Layer.build(Sql.layer(database)))
    yield* Console.log(`Migrated ${Sql.describeDatabase(database)}: the schema is current.`)
  })

/**
 * Listing or revoking keys in a SQLite file that does not exist can only be a mistyped path:
 * creating it would answer "No API keys." about a database no server reads.
 */
const existing = (database: Sql.Database): Effect.Effect<Sql.Database, NotFound> =>
  database._tag === "Sqlite" && database.filename !== ":memory:" && !existsSync(database.filename)
    ? Effect.fail(new NotFound({ message: `no database at ${database.filename} (check --database / DATABASE_URL)` }))
    : Effect.succeed(database)

/**
 * The API key store over the chosen database, migrated first: `keys create` may provision a fresh
 * file before the first `serve`; `keys list` and `revoke` (`mustExist`) only read an existing one.
 */
const withKeys = <A, E>(
  flag: Option.Option<string>,
  options: { readonly mustExist: boolean },
  use: (keys: ApiKeys) => Effect.Effect<A, E>
) =>
  Effect.flatMap(
    storage,
    ({ ApiKeys, Sql }) =>
      Effect.flatMap(resolveDatabase(Sql, flag), (resolved) =>
        Effect.flatMap(options.mustExist ? existing(resolved) : Effect.succeed(resolved), (database) =>
          Effect.flatMap(ApiKeys, use).pipe(Effect.provide(ApiKeys.Default.pipe(Layer.provide(Sql.layer(database)))))))
  )

const organization = (org: string): Effect.Effect<OrganizationId, UsageError> =>
  isOrganizationId(org)
    ? Effect.succeed(org)
    : Effect.fail(
      new UsageError({
        message: `--org must be an organization id: org_ followed by 1–64 letters, digits or _ (got ${
          JSON.stringify(org)
        })`
      })
    )

export const keysCreate = (
  input: {
    readonly database: Option.Option<string>
    readonly json: boolean
    readonly org: string
    readonly name: string
  }
) =>
  Effect.flatMap(
    organization(input.org),
    (org) =>
      withKeys(input.database, { mustExist: false }, (keys) => keys.create(org, input.name)).pipe(
        Effect.flatMap((key) =>
          Console.log(
            input.json
              ? Output.json({
                id: key.id,
                organization_id: key.organization_id,
                name: key.name,
                key: key.key,
                created_at: key.created_at
              })
              : Output.createdKeyText(key)
          )
        )
      )
  )

export const keysList = (
  input: { readonly database: Option.Option<string>; readonly json: boolean; readonly org: Option.Option<string> }
) =>
  Effect.gen(function*() {
    const org = Option.isSome(input.org) ? yield* organization(input.org.value) : undefined
    const found = yield* withKeys(input.database, { mustExist: true }, (keys) => keys.list(org))
    yield* Console.log(input.json ? Output.json({ data: found.map(Output.keyJson) }) : Output.keyTable(found))
  })

export const keysRevoke = (input: { readonly database: Option.Option<string>; readonly id: string }) =>
  withKeys(input.database, { mustExist: true }, (keys) =>
    Effect.gen(function*() {
      if (yield* keys.revoke(input.id)) return yield* Console.log(`Revoked API key ${input.id}.`)
      // Nothing changed: either it was revoked before (the outcome asked for: not an error) or it does not exist.
      const existing = (yield* keys.list()).find((key) => key.id === input.id)
      if (existing?.revoked_at != null) {
        return yield* Console.log(`API key ${input.id} was already revoked at ${existing.revoked_at}.`)
      }
      return yield* new NotFound({ message: `no API key with id ${JSON.stringify(input.id)}` })
    }))
