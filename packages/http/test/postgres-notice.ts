/**
 * Vitest global setup of the http project: runs once per run, not once per test file, so the
 * PostgreSQL notice is printed once. In CI a missing server is an error, so a green run can never
 * mean "PostgreSQL was silently skipped".
 */
export default function setup(): void {
  if (process.env["WORKFLOWS_TEST_PG_URL"] !== undefined) return
  if (process.env["CI"] === "true") {
    throw new Error("CI=true but WORKFLOWS_TEST_PG_URL is not set: the PostgreSQL half of the suite cannot run")
  }
  console.warn("WORKFLOWS_TEST_PG_URL is not set: PostgreSQL tests are skipped (source .ci/postgres.sh to run them)")
}
