import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import {
  Config,
  ConfigError,
  Context,
  Data,
  Duration,
  Effect,
  Either,
  FiberRef,
  Layer,
  Option,
  Predicate,
  Redacted,
  Schedule
} from "effect"
import type * as Pg from "pg"
import initial from "./migrations/0001_initial.js"
import idempotencyExpiry from "./migrations/0002_idempotency_expiry.js"
import * as SqliteConnection from "./SqliteConnection.js"

/** Where the data lives: an embedded SQLite file, or a PostgreSQL server shared by many instances. */
export type Database = Data.TaggedEnum<{
  Sqlite: { readonly filename: string }
  Postgres: { readonly url: Redacted.Redacted; readonly display: string }
}>
export const Database = Data.taggedEnum<Database>()

export const DEFAULT_SQLITE_FILE = "./data/workflows.db"

/** `DATABASE_URL`: unset → the default SQLite file; `sqlite:PATH`; `postgres://…` or `postgresql://…`. */
export const parseDatabaseUrl = (raw: string | undefined): Either.Either<Database, string> => {
  if (raw === undefined || raw.trim() === "") return Either.right(Database.Sqlite({ filename: DEFAULT_SQLITE_FILE }))
  if (raw.startsWith("sqlite:")) {
    const filename = raw.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "")
    return filename === ""
      ? Either.left("sqlite: needs a file path, as in sqlite:./data/workflows.db")
      : Either.right(Database.Sqlite({ filename }))
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    return Either.right(Database.Postgres({ url: Redacted.make(raw), display: withoutPassword(raw) }))
  }
  return Either.left("must start with sqlite:, postgres:// or postgresql://")
}

const withoutPassword = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    return parsed.toString()
  } catch {
    return "postgres://(unparseable url)"
  }
}

export const describeDatabase = Database.$match({
  Sqlite: ({ filename }) => `sqlite:${filename}`,
  Postgres: ({ display }) => display
})

export const databaseKind = Database.$match({
  Sqlite: () => "sqlite" as const,
  Postgres: () => "postgresql" as const
})

export const DatabaseConfig: Config.Config<Database> = Config.string("DATABASE_URL").pipe(
  Config.option,
  Config.mapOrFail((url) =>
    Either.mapLeft(
      parseDatabaseUrl(url._tag === "Some" ? url.value : undefined),
      (message) => ConfigError.InvalidData(["DATABASE_URL"], message)
    )
  )
)

/** PostgreSQL tuning; SQLite has one connection and needs none. */
const PoolConfig = Config.all({
  maxConnections: Config.integer("DATABASE_POOL_SIZE").pipe(Config.withDefault(10)),
  statementTimeout: Config.duration("DATABASE_STATEMENT_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10))),
  // A request waiting on a row (or advisory) lock holds a pooled connection meanwhile; a row held
  // by a stuck transaction must not let such waiters use up the pool. Writers hold rows for milliseconds.
  lockTimeout: Config.duration("DATABASE_LOCK_TIMEOUT").pipe(Config.withDefault(Duration.seconds(2))),
  // And a request that finds every connection busy gives up rather than queueing without end.
  poolTimeout: Config.duration("DATABASE_POOL_TIMEOUT").pipe(Config.withDefault(Duration.seconds(5)))
})

// Each driver is loaded when its layer is built: a SQLite deployment never loads pg, nor PostgreSQL better-sqlite3.
const sqliteLayer = (filename: string) =>
  SqliteConnection.layer({ filename }).pipe(
    Layer.tap((context) => {
      const sql = Context.get(context, SqlClient.SqlClient)
      // WAL is on (the connection opens it). busy_timeout lets the migrations wait for another
      // process's lock (lowered once they are done, see `layer`); synchronous=NORMAL in WAL keeps
      // every commit across a process crash, which is what we promise.
      return Effect.all([
        sql`PRAGMA busy_timeout = 5000`,
        sql`PRAGMA synchronous = NORMAL`,
        sql`PRAGMA foreign_keys = ON`
      ], { discard: true })
    })
  )

/**
 * `url` with `settings` added to its `options` parameter, so every pooled connection starts with
 * them. Options the operator put in `DATABASE_URL` (a `search_path`, say) are kept; ours come
 * after them, so ours win where both set the same one.
 */
export const withSessionSettings = (url: string, settings: Readonly<Record<string, Duration.Duration>>): string => {
  const parsed = new URL(url)
  const ours = Object.entries(settings).map(([name, value]) => `-c ${name}=${Duration.toMillis(value)}`)
  const theirs = parsed.searchParams.get("options")?.trim()
  parsed.searchParams.set("options", [...(theirs ? [theirs] : []), ...ours].join(" "))
  return parsed.toString()
}

/** The PostgreSQL pools open in this process, for `poolUse`. */
const openPools = new Set<Pg.Pool>()

/** How many connections the open PostgreSQL pools hold, use and may open, and how many callers wait for one. */
export interface PoolUse {
  readonly max: number
  readonly total: number
  readonly idle: number
  readonly waiting: number
}

/** The use of the process's PostgreSQL pools, summed (none on SQLite): read when metrics are scraped. */
export const poolUse = (): Option.Option<PoolUse> => {
  if (openPools.size === 0) return Option.none()
  const use = { max: 0, total: 0, idle: 0, waiting: 0 }
  for (const pool of openPools) {
    use.max += pool.options.max ?? 10
    use.total += pool.totalCount
    use.idle += pool.idleCount
    use.waiting += pool.waitingCount
  }
  return Option.some(use)
}

/**
 * The pool is made here rather than by `PgClient.layer`, which keeps it to itself: its use is
 * what `/metrics` reports. As `PgClient.layer` does, the first connection is checked within the
 * pool's connection timeout, so an unreachable server fails the layer, and closing the layer ends
 * the pool.
 */
const openPool = (Pool: typeof Pg.Pool, config: Pg.PoolConfig, connectTimeout: Duration.Duration) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const pool = new Pool(config)
      // An idle connection's error (the server restarting) is the next query's problem, not a crash.
      pool.on("error", () => {})
      return Effect.tryPromise({
        try: () => pool.query("SELECT 1"),
        catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
      }).pipe(
        Effect.timeoutFail({
          duration: connectTimeout,
          onTimeout: () =>
            new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
        }),
        Effect.tapError(() => Effect.promise(() => pool.end())),
        Effect.as(pool)
      )
    }),
    (pool) =>
      Effect.sync(() => openPools.delete(pool)).pipe(
        Effect.zipRight(Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000)))
      )
  ).pipe(Effect.tap((pool) => Effect.sync(() => openPools.add(pool))))

const postgresLayer = (url: Redacted.Redacted) =>
  Layer.unwrapEffect(
    Effect.all([
      PoolConfig,
      Effect.promise(() => import("@effect/sql-pg/PgClient")),
      Effect.promise(() => import("pg"))
    ]).pipe(
      Effect.map(([{ lockTimeout, maxConnections, poolTimeout, statementTimeout }, PgClient, pg]) =>
        PgClient.layerFromPool({
          acquire: openPool(pg.default.Pool, {
            connectionString: withSessionSettings(Redacted.value(url), {
              statement_timeout: statementTimeout,
              lock_timeout: lockTimeout
            }),
            max: maxConnections,
            // pg-pool's wait for a connection (queued or new); also bounds the first connection at start.
            connectionTimeoutMillis: Duration.toMillis(poolTimeout),
            application_name: "workflows"
          }, poolTimeout),
          applicationName: "workflows"
        })
      )
    )
  )

const MIGRATIONS_TABLE = "workflows_migrations"

const migrator = Migrator.make({})({
  loader: Migrator.fromRecord({ "0001_initial": initial, "0002_idempotency_expiry": idempotencyExpiry }),
  table: MIGRATIONS_TABLE
})

/**
 * Instances starting together on one empty PostgreSQL database would each create the migrations
 * table and the schema at once, and all but one fail. One transaction holding an advisory lock
 * makes them migrate one after the other, on one connection (a pool of one must be able to
 * start); the later ones find nothing left to do. The migrator probes for its table with a
 * statement that fails when it is missing, which would abort the transaction: the table is
 * created first, as the migrator itself would. The wait is bounded by the statement timeout,
 * not by the short lock timeout meant for requests.
 */
const migrate = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.onDialectOrElse({
    pg: () =>
      sql.withTransaction(
        Effect.gen(function*() {
          yield* sql`SET LOCAL lock_timeout = 0`
          yield* lockName(sql, "workflows:migrations")
          yield* sql`CREATE TABLE IF NOT EXISTS ${sql(MIGRATIONS_TABLE)} (
            migration_id integer primary key,
            created_at timestamp with time zone not null default now(),
            name text not null
          )`
          return yield* migrator
        })
      ),
    orElse: () => migrator
  }))

/** How long one SQLite call may sleep waiting for another process's lock (it blocks the event loop). */
const SQLITE_BUSY_TIMEOUT_MS = 50

/**
 * SQLite waits for a lock held by another process (the CLI's `keys create` beside a running
 * server) by sleeping inside the call, with the whole event loop stopped. Once migrated, the
 * client waits that way only briefly; a write transaction waits for the write lock
 * asynchronously instead (`makeWriteTransaction`), so everything else goes on meanwhile.
 */
const shortBusyWait = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.onDialectOrElse({
    sqlite: () => Effect.asVoid(sql`PRAGMA busy_timeout = ${sql.literal(String(SQLITE_BUSY_TIMEOUT_MS))}`),
    orElse: () => Effect.void
  }))

/** A client for `database`, migrated to the current schema before anything else runs. */
export const layer = (
  database: Database
): Layer.Layer<SqlClient.SqlClient, SqlError | Migrator.MigrationError | ConfigError.ConfigError> =>
  Layer.effectDiscard(Effect.zipRight(migrate, shortBusyWait)).pipe(
    Layer.provideMerge(
      Database.$match(database, {
        Sqlite: ({ filename }) => sqliteLayer(filename),
        Postgres: ({ url }) => postgresLayer(url)
      })
    )
  )

export const layerFromConfig = Layer.unwrapEffect(Effect.map(DatabaseConfig, layer))

/** How long a write transaction waits for the write lock in all, retrying between other work. */
const WRITE_LOCK_PATIENCE = Duration.seconds(5)

/** `BEGIN IMMEDIATE` found the write lock held by another process: try again shortly. */
class WriteLockBusy extends Data.TaggedError("WriteLockBusy")<{ readonly error: SqlError }> {}

const lockBusy = (error: SqlError) => new WriteLockBusy({ error })

/**
 * Runs `effect` as one write transaction, holding the write lock from its start.
 * A deferred BEGIN would let two processes both read and then fail to upgrade
 * (SQLITE_BUSY_SNAPSHOT); so on our SQLite connection (`SqliteConnection`) the transaction takes
 * the connection's lock and runs a prepared `BEGIN IMMEDIATE`, publishing its connection so every
 * statement inside and any nested `withTransaction` (a savepoint) use it. When another process
 * holds the write lock, our lock is released and BEGIN retried with a short, growing delay for up
 * to five seconds, so this process's reads and other requests go on meanwhile (SQLite's own busy
 * wait would sleep with the event loop stopped; docs/DECISIONS.md). PostgreSQL needs no global
 * lock: writers lock the rows they change (`SELECT … FOR UPDATE`, see `forUpdate`). Any other
 * client (a program's own) gets @effect/sql's `withTransaction`.
 */
export const makeWriteTransaction = (sql: SqlClient.SqlClient) => {
  const connection = SqliteConnection.fromClient(sql)
  const dieOnSqlError = <A, E, R>(effect: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, E, R> =>
    Effect.catchIf(
      effect,
      (error): error is SqlError => Predicate.isTagged(error, "SqlError"),
      Effect.die
    ) as Effect.Effect<A, E, R>
  // Nested in a transaction (which holds the lock already): a savepoint.
  const nested = <A, E, R>(effect: Effect.Effect<A, E, R>) => dieOnSqlError(sql.withTransaction(effect))
  if (connection === undefined) return nested

  const waitForLock = Schedule.exponential("5 millis").pipe(
    Schedule.union(Schedule.spaced("100 millis")),
    Schedule.jittered,
    Schedule.upTo(WRITE_LOCK_PATIENCE)
  )
  const isLockBusy = (error: unknown): error is WriteLockBusy => error instanceof WriteLockBusy
  const attempt = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    SqliteConnection.writeTransaction(
      connection,
      effect,
      (error) => Effect.fail(lockBusy(error)),
      () => nested(effect)
    )
  /** After a first attempt found the lock `busy`: retries, and the original SQLITE_BUSY if it stays locked. */
  const retry = <A, E, R>(effect: Effect.Effect<A, E, R>, busy: WriteLockBusy): Effect.Effect<A, E | SqlError, R> => {
    // The busy attempt counts as the first try, so the schedule's first delay comes before the next.
    // The schedule is set up only once the lock was found busy: building it costs more than the transaction.
    let tries = 0
    return Effect.suspend(() => (tries++ === 0 ? Effect.fail(busy) : attempt(effect))).pipe(
      Effect.retry({ schedule: waitForLock, while: isLockBusy }),
      // Still locked after all that: the original SQLITE_BUSY (a 503 at the HTTP edge).
      Effect.catchIf(isLockBusy, (busy) => Effect.fail(busy.error))
    )
  }
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    SqliteConnection.writeTransaction(
      connection,
      effect,
      (error) => dieOnSqlError(retry(effect, lockBusy(error))),
      () => nested(effect)
    )
}

/**
 * Runs `statement` on the current transaction's connection when there is one, else as usual.
 * Inside a transaction the connection is already held, so the statement's own per-run span,
 * scope and connection acquisition (each costlier than the SQLite work, docs/DECISIONS.md) buy
 * nothing: its compiled text goes straight to the connection, through the driver's
 * prepared-statement cache. The text and parameters are those `sql` compiles; row transforms
 * are not applied (our clients configure none). When tracing is on, the statement runs as usual,
 * so it gets its span.
 */
export const executeInTransaction = <A extends object>(
  statement: Statement.Statement<A>
): Effect.Effect<ReadonlyArray<A>, SqlError> =>
  Effect.withFiberRuntime((fiber) => {
    const transaction = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
    if (Option.isNone(transaction) || fiber.getFiberRef(FiberRef.currentTracerEnabled)) return statement
    const [text, params] = statement.compile()
    return transaction.value[0].execute(text, params, undefined) as Effect.Effect<ReadonlyArray<A>, SqlError>
  })

/**
 * `executeInTransaction` for `sql`'s statements, and on our SQLite connection more: there every
 * statement, in a transaction or not, runs its compiled text prepared once, in one step (waiting
 * for another fiber's transaction to end, as every statement outside it does), unless a tracer is
 * enabled (then as usual, with its span).
 */
export const executor = (sql: SqlClient.SqlClient) => {
  const sqlite = SqliteConnection.fromClient(sql)
  if (sqlite === undefined) return executeInTransaction
  return <A extends object>(statement: Statement.Statement<A>): Effect.Effect<ReadonlyArray<A>, SqlError> =>
    sqlite.runUntraced((connection) => {
      const [text, params] = statement.compile()
      return Effect.succeed(connection.execute(text, params) as ReadonlyArray<A>)
    }, () => executeInTransaction(statement))
}

/** The row-lock suffix for a read that is followed by a write of the same row in one transaction. */
export const forUpdate = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({ pg: () => sql.literal("FOR UPDATE"), orElse: () => sql.literal("") })

/**
 * Inside a write transaction: serializes transactions that name the same `key` (an idempotency
 * key, the bootstrap). PostgreSQL takes a transaction-scoped advisory lock; SQLite already
 * serializes every write transaction, so it needs nothing more.
 */
export const lockName = (sql: SqlClient.SqlClient, key: string) =>
  sql.onDialectOrElse({
    pg: () => Effect.orDie(Effect.asVoid(sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`)),
    orElse: () => Effect.void
  })
