import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlConnection from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import type BetterSqlite3 from "better-sqlite3"
import { Cause, Context, Effect, type Fiber, FiberRef, Layer, Option, Predicate, Scope, Stream } from "effect"
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"

/** How many distinct statement texts stay prepared; the oldest is dropped beyond that. */
const PREPARED_CAPACITY = 200

/** A waiter for the connection: a statement to run once no transaction is open, or a transaction to start. */
type Waiter = () => void

/**
 * The one connection's exclusion between transactions and everything else. A transaction holds
 * it from BEGIN to COMMIT (across awaits); a statement outside any transaction runs only while it
 * is free, and runs at once, in one step (better-sqlite3 is synchronous, so nothing can interleave).
 * A statement that finds it held is run by `release`, in arrival order, before the next transaction
 * waiting behind it starts: neither kind starves the other.
 */
class ConnectionLock {
  private held = false
  private readonly waiters: Array<Waiter> = []

  get isHeld(): boolean {
    return this.held
  }

  private remove(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter)
    if (index >= 0) this.waiters.splice(index, 1)
  }

  release(): void {
    this.held = false
    while (!this.held && this.waiters.length > 0) this.waiters.shift()!()
  }

  /** `run` now when free, else once the transaction holding the lock ends. */
  whenFree<A, E>(run: () => Effect.Effect<A, E>): Effect.Effect<A, E> {
    if (!this.held) return run()
    return Effect.async<A, E>((resume) => {
      const waiter = () => resume(run())
      this.waiters.push(waiter)
      return Effect.sync(() => this.remove(waiter))
    })
  }

  /**
   * Takes the lock. To be called in an uninterruptible region, with its `restore`: only the wait
   * is interruptible, and a lock granted to a waiter interrupted meanwhile is handed on.
   */
  acquire(restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>): Effect.Effect<void> {
    if (!this.held) {
      this.held = true
      return Effect.void
    }
    let granted = false
    return restore(Effect.async<void>((resume) => {
      const waiter = () => {
        this.held = true
        granted = true
        resume(Effect.void)
      }
      this.waiters.push(waiter)
      return Effect.sync(() => this.remove(waiter))
    })).pipe(Effect.onInterrupt(() => Effect.sync(() => granted && this.release())))
  }
}

const failed = (cause: unknown, message = "Failed to execute statement") => new SqlError({ cause, message })

/**
 * Our SQLite connection: better-sqlite3 opened once, statements prepared once per text and kept
 * in a plain map, and the lock that keeps transactions apart. `SqlClient` statements reach it
 * through `make`'s client; the storage layer's hot statements run on it directly (`run`).
 */
export interface SqliteConnection {
  readonly db: BetterSqlite3.Database
  /** The prepared statement for `text`, prepared on first use. Throws as better-sqlite3 does. */
  readonly prepare: (text: string) => BetterSqlite3.Statement
  /** Runs `text`: the rows of a query, none for other statements. Throws as better-sqlite3 does. */
  readonly execute: (text: string, params: ReadonlyArray<unknown>) => ReadonlyArray<unknown>
  /**
   * Runs `f` on the connection in one step, an exception it throws as a `SqlError`: at once inside
   * this connection's transaction (the fiber holds it) or when no transaction is open, else as
   * soon as the open one ends. `f` does its SQLite work when called; the effect it returns only
   * delivers the outcome.
   */
  readonly run: <A, E>(f: (connection: SqliteConnection) => Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>
  /** `run(f)`, or `traced()` while a tracer is enabled, so that each statement still gets its span. */
  readonly runUntraced: <A, E, A2, E2, R2>(
    f: (connection: SqliteConnection) => Effect.Effect<A, E>,
    traced: () => Effect.Effect<A2, E2, R2>
  ) => Effect.Effect<A | A2, E | SqlError | E2, R2>
  /** `runUntraced`, an exception `f` throws being a defect (the `SqlError` it would fail with). */
  readonly runUntracedOrDie: <A, E, A2, E2, R2>(
    f: (connection: SqliteConnection) => Effect.Effect<A, E>,
    traced: () => Effect.Effect<A2, E2, R2>
  ) => Effect.Effect<A | A2, E | E2, R2>
  /** The `SqlConnection` published as `TransactionConnection` by a transaction holding the lock. */
  readonly held: SqlConnection.Connection
  readonly lock: ConnectionLock
}

const TypeId: unique symbol = Symbol.for("@workflows/http/SqliteConnection")

/** The connection behind `sql`, when `sql` is a client made by `make`. */
export const fromClient = (sql: SqlClient.SqlClient): SqliteConnection | undefined =>
  (sql as { readonly [TypeId]?: SqliteConnection })[TypeId]

const rowsOf = (statement: BetterSqlite3.Statement, params: ReadonlyArray<unknown>, raw: boolean): unknown => {
  if (statement.reader) return statement.all(...params)
  const result = statement.run(...params)
  return raw ? result : []
}

const attempt = <A>(f: () => A): Effect.Effect<A, SqlError> => {
  try {
    return Effect.succeed(f())
  } catch (cause) {
    return Effect.fail(failed(cause))
  }
}

const attemptEffect = <A, E>(f: () => Effect.Effect<A, E>): Effect.Effect<A, E | SqlError> => {
  try {
    return f()
  } catch (cause) {
    return Effect.fail(failed(cause))
  }
}

/** `attemptEffect`, an exception being a defect, as `Effect.orDie` would make it, without its step. */
const attemptOrDie = <A, E>(f: () => Effect.Effect<A, E>): Effect.Effect<A, E> => {
  try {
    return f()
  } catch (cause) {
    return Effect.die(failed(cause))
  }
}

export interface Options {
  readonly filename: string
}

/**
 * Opens `filename` (WAL) and builds an `SqlClient` over it with @effect/sql's driver API, the
 * connection closed when `scope` closes. Replaces @effect/sql-sqlite-node, whose per-statement
 * `Cache` lookup, semaphore and scope cost more than the SQLite work of our statements.
 */
export const make = (options: Options): Effect.Effect<SqlClient.SqlClient, SqlError, Scope.Scope> =>
  Effect.gen(function*() {
    const { default: Database } = yield* Effect.promise(() => import("better-sqlite3"))
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          if (options.filename !== ":memory:") mkdirSync(dirname(options.filename), { recursive: true })
          const db = new Database(options.filename)
          db.pragma("journal_mode = WAL")
          return db
        },
        catch: (cause) => failed(cause, "Failed to open the database")
      }),
      (db) => Effect.sync(() => db.close())
    )

    const prepared = new Map<string, BetterSqlite3.Statement>()
    const prepare = (text: string): BetterSqlite3.Statement => {
      let statement = prepared.get(text)
      if (statement === undefined) {
        statement = db.prepare(text)
        if (prepared.size >= PREPARED_CAPACITY) prepared.delete(prepared.keys().next().value!)
        prepared.set(text, statement)
      }
      return statement
    }
    const lock = new ConnectionLock()

    const connection = (
      guard: <A>(run: () => Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>
    ): SqlConnection.Connection => {
      const execute = (sql: string, params: ReadonlyArray<unknown>, raw: boolean) =>
        guard(() => attempt(() => rowsOf(prepare(sql), params, raw)))
      return {
        execute: (sql, params, transformRows) => {
          const rows = execute(sql, params, false) as Effect.Effect<ReadonlyArray<object>, SqlError>
          return transformRows ? Effect.map(rows, transformRows) : rows
        },
        executeRaw: (sql, params) => execute(sql, params, true),
        executeValues: (sql, params) =>
          guard(() =>
            attempt(() => {
              const statement = prepare(sql)
              if (!statement.reader) {
                statement.run(...params)
                return []
              }
              try {
                return statement.raw(true).all(...params) as ReadonlyArray<ReadonlyArray<unknown>>
              } finally {
                statement.raw(false)
              }
            })
          ),
        executeUnprepared: (sql, params, transformRows) => {
          const rows = guard(() => attempt(() => rowsOf(db.prepare(sql), params ?? [], false))) as Effect.Effect<
            ReadonlyArray<object>,
            SqlError
          >
          return transformRows ? Effect.map(rows, transformRows) : rows
        },
        executeStream: () => Stream.dieMessage("executeStream not implemented")
      }
    }
    // Outside a transaction a statement waits for the open one to end; inside, the lock is ours.
    const free = connection((run) => Effect.suspend(() => lock.whenFree(run)))
    const held = connection((run) => Effect.suspend(run))

    const runIn = <A, E, E2>(
      fiber: Fiber.RuntimeFiber<unknown, unknown>,
      f: (connection: SqliteConnection) => Effect.Effect<A, E>,
      attempt: (f: () => Effect.Effect<A, E>) => Effect.Effect<A, E | E2>
    ): Effect.Effect<A, E | E2> => {
      const transaction = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
      const go = () => attempt(() => f(sqlite))
      return transaction._tag === "Some" && transaction.value[0] === held ? go() : lock.whenFree(go)
    }
    const sqlite: SqliteConnection = {
      db,
      prepare,
      execute: (text, params) => rowsOf(prepare(text), params, false) as ReadonlyArray<unknown>,
      lock,
      held,
      run: (f) => Effect.withFiberRuntime((fiber) => runIn(fiber, f, attemptEffect)),
      runUntraced: (f, traced) =>
        Effect.withFiberRuntime((fiber) =>
          fiber.getFiberRef(FiberRef.currentTracerEnabled) ? traced() : runIn(fiber, f, attemptEffect)
        ),
      runUntracedOrDie: (f, traced) =>
        Effect.withFiberRuntime((fiber) =>
          fiber.getFiberRef(FiberRef.currentTracerEnabled) ? traced() : runIn(fiber, f, attemptOrDie)
        )
    }

    const client = yield* SqlClient.make({
      acquirer: Effect.succeed(free),
      transactionAcquirer: Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(
          lock.acquire(restore),
          Effect.as(
            Effect.flatMap(Effect.scope, (scope) => Scope.addFinalizer(scope, Effect.sync(() => lock.release()))),
            held
          )
        )
      ),
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "sqlite"]]
    })
    return Object.assign(client, { [TypeId]: sqlite })
  }).pipe(Effect.provide(Reactivity.layer))

/** `make` as a layer providing `SqlClient`. */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient, SqlError> =>
  Layer.scoped(SqlClient.SqlClient, make(options))

/**
 * Runs `body` as one write transaction on `connection`, holding its lock and SQLite's write lock
 * (`BEGIN IMMEDIATE`) from the start; `TransactionConnection` is published so `SqlClient`
 * statements and nested `withTransaction` (a savepoint) inside use it. Rolled back on failure,
 * defect or interruption. When BEGIN finds SQLite's lock held (another process writing), the
 * connection's lock is released and the transaction continues as `busy(error)`, for the caller to
 * retry. A `SqlError` failure of the transaction, its own or the body's, is a defect. Inside a
 * transaction already, `nested` runs instead.
 *
 * Written as a few primitive steps rather than `acquireUseRelease` and `provideService`, each of
 * which costs more than the SQLite work: the connection is published by setting the context
 * for the body and setting it back after, all inside one uninterruptible region.
 */
export const writeTransaction = <A, E, R, A2, E2, R2>(
  connection: SqliteConnection,
  body: Effect.Effect<A, E, R>,
  busy: (error: SqlError) => Effect.Effect<A2, E2, R2>,
  nested: () => Effect.Effect<A, E, R>
): Effect.Effect<A | A2, E | E2, R | R2> =>
  Effect.uninterruptibleMask((restore) => {
    const { db, held, lock, prepare } = connection
    const begin = (outer: Context.Context<never>): Effect.Effect<A | A2, E | E2, R | R2> => {
      try {
        prepare("BEGIN IMMEDIATE").run()
      } catch (cause) {
        lock.release()
        const error = failed(cause, "Failed to begin the transaction")
        // Outside the transaction now: waiting to retry is as interruptible as the caller.
        return isBusy(error) ? restore(busy(error)) : Effect.die(error)
      }
      const finish = (success: boolean) => {
        try {
          if (success) prepare("COMMIT").run()
          // Some errors (a full disk, say) end the transaction themselves: then there is nothing to undo.
          else if (db.inTransaction) prepare("ROLLBACK").run()
        } catch (cause) {
          // A failed COMMIT leaves the transaction open: roll it back before failing.
          if (db.inTransaction) {
            try {
              prepare("ROLLBACK").run()
            } catch {
              // The first error is the one to report.
            }
          }
          return failed(cause, "Failed to end the transaction")
        } finally {
          lock.release()
        }
      }
      const inside = Context.add(outer, SqlClient.TransactionConnection, [held, 0] as const)
      const leave = FiberRef.set(FiberRef.currentContext, outer)
      return Effect.zipRight(
        FiberRef.set(FiberRef.currentContext, inside),
        Effect.matchCauseEffect(restore(body), {
          // COMMIT or ROLLBACK as soon as the body ends, then the context is set back.
          onSuccess: (value) => {
            const error = finish(true)
            return error === undefined
              // Sets the context back and answers the value in one effect.
              ? FiberRef.modify(FiberRef.currentContext, () => [value, outer])
              : Effect.zipRight(leave, Effect.die(error))
          },
          onFailure: (cause) => {
            const error = finish(false)
            if (error !== undefined) return Effect.zipRight(leave, Effect.die(error))
            // As `catchTag("SqlError", die)` would: a statement's failure inside is a defect.
            const failure = Cause.failureOption(cause)
            return Effect.zipRight(
              leave,
              Option.isSome(failure) && Predicate.isTagged(failure.value, "SqlError")
                ? Effect.die(failure.value)
                : Effect.failCause(cause)
            )
          }
        })
      )
    }
    return Effect.withFiberRuntime((fiber) => {
      const outer = fiber.currentContext
      // Inside a transaction already (which holds the lock): the caller's nested form, a savepoint.
      if (Context.getOption(outer, SqlClient.TransactionConnection)._tag === "Some") return restore(nested())
      if (lock.isHeld) return Effect.zipRight(lock.acquire(restore), Effect.suspend(() => begin(outer)))
      lock.acquire(restore) // free: taken at once
      return begin(outer)
    })
  })

/** SQLite reported a lock held by another connection (or process). */
export const isBusy = (error: SqlError): boolean => {
  const code = (error.cause as { readonly code?: unknown } | undefined)?.code
  return typeof code === "string" && code.startsWith("SQLITE_BUSY")
}
