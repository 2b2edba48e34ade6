# shellcheck shell=bash
# .ci/postgres.sh — start a throwaway PostgreSQL cluster for the test suite.
#
# Usage (from .ci/run, which runs as root with CI=true and no stdin):
#
#     source .ci/postgres.sh          # starts PG, exports WORKFLOWS_TEST_PG_URL
#     npm test                        # tests read WORKFLOWS_TEST_PG_URL
#
# What it does:
#   * finds pg_ctl/initdb/postgres (PATH, /usr/local/bin, /usr/lib/postgresql/*/bin,
#     newest version first); if absent: apt-get update && apt-get install -y postgresql
#     (Debian 12 -> PostgreSQL 15), quietly, without creating/starting the distro
#     "main" cluster when postgresql-common was not installed yet;
#   * creates a cluster in a fresh temp dir owned by an unprivileged user (`postgres`
#     if it exists, else a system user `pgtest` is created; when not run as root the
#     current user is used), trust auth, superuser `postgres`, listening on
#     127.0.0.1 only, unix socket inside the temp dir, fsync/synchronous_commit off;
#   * port: $WORKFLOWS_PG_PORT if set, else the first free port from 54329 up;
#   * creates database `workflows_test` and exports
#       WORKFLOWS_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/workflows_test
#   * defines `postgres_stop` (idempotent: stops the cluster, removes the temp dir)
#     and chains it onto the EXIT trap, keeping any EXIT trap already set.
#
# Cleanup contract: the EXIT trap runs on normal exit, on `set -e` failures and on
# SIGINT/SIGTERM of the sourcing shell (not on SIGKILL: then /tmp/workflows-pg.* and a
# postmaster are left behind). If .ci/run sets its *own* `trap ... EXIT`
# AFTER sourcing this file, that replaces ours — then it must call `postgres_stop`
# from its trap (or set its trap before sourcing; we chain onto it).
#
# If WORKFLOWS_TEST_PG_URL is already set (e.g. a CI service container), nothing is
# started and the URL is used as is. On failure, sourcing returns non-zero (so a
# caller with `set -e` aborts) after printing the server log.
#
# Knobs: WORKFLOWS_PG_PORT (fixed port), WORKFLOWS_PG_FORCE_APT=1 (ignore installed binaries
# during the first lookup; used to test the apt path).

postgres_stop() {
  local dir="${_WF_PG_DIR:-}"
  [ -n "$dir" ] || return 0
  _WF_PG_DIR=""
  if [ -f "$dir/data/postmaster.pid" ]; then
    _wf_pg_as_user "${_WF_PG_BIN}/pg_ctl" stop -D "$dir/data" -m immediate -w -t 15 >/dev/null 2>&1 || true
    # belt and braces: kill the postmaster if pg_ctl could not
    local pid
    pid=$(head -n1 "$dir/data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf -- "$dir"
  echo "postgres: stopped, removed $dir" >&2
}

_wf_pg_as_user() {
  # run from / so an unreadable cwd (e.g. /root) doesn't upset the PG tools
  ( cd / && _wf_pg_as_user_ "$@" )
}

_wf_pg_as_user_() {
  if [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u "$_WF_PG_USER" -- "$@"
    else
      setpriv --reuid="$_WF_PG_USER" --regid="$(id -g "$_WF_PG_USER")" --clear-groups -- "$@"
    fi
  else
    "$@"
  fi
}

_wf_pg_find_bindir() {
  local cand d
  local -a cands=()
  if [ "${1:-}" != "skip" ]; then
    cand=$(command -v pg_ctl 2>/dev/null || true)
    [ -n "$cand" ] && cands+=("$(dirname "$(readlink -f "$cand")")")
    cands+=(/usr/local/bin)
    cands+=(/usr/local/pgsql/bin)
    # newest major version first
    for d in $(ls -1d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -rn); do
      cands+=("$d")
    done
  fi
  for d in "${cands[@]}"; do
    # resolve symlinks so /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin
    if [ -x "$d/pg_ctl" ]; then d=$(dirname "$(readlink -f "$d/pg_ctl")"); fi
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

_wf_pg_apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "postgres: server binaries not found and not root; cannot apt-get install" >&2
    return 1
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "postgres: no binaries and no apt-get" >&2; return 1; }
  echo "postgres: server binaries not found; installing via apt-get (quiet)..." >&2
  # Don't let the package create/start the distro 'main' cluster on :5432.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  fi
  local log
  log=$(mktemp)
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y -qq \
           --no-install-recommends -o Dpkg::Options::=--force-confold postgresql; } \
         </dev/null >"$log" 2>&1; then
    echo "postgres: apt-get failed:" >&2
    tail -n 30 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

_wf_pg_pick_user() {
  if [ "$(id -u)" -ne 0 ]; then
    _WF_PG_USER=$(id -un)
    return 0
  fi
  if getent passwd postgres >/dev/null 2>&1; then
    _WF_PG_USER=postgres
  else
    if ! getent passwd pgtest >/dev/null 2>&1; then
      useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin pgtest >/dev/null 2>&1 ||
        { echo "postgres: could not create user pgtest" >&2; return 1; }
    fi
    _WF_PG_USER=pgtest
  fi
}

_wf_pg_port_free() {
  # A successful TCP connect means something is listening there.
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_wf_pg_start() {
  if [ -n "${WORKFLOWS_TEST_PG_URL:-}" ]; then
    echo "postgres: using existing WORKFLOWS_TEST_PG_URL (not starting a cluster)" >&2
    return 0
  fi

  local bindir=""
  if [ "${WORKFLOWS_PG_FORCE_APT:-}" = 1 ]; then
    bindir=$(_wf_pg_find_bindir skip) || true
  else
    bindir=$(_wf_pg_find_bindir) || true
  fi
  if [ -z "$bindir" ]; then
    _wf_pg_apt_install || return 1
    bindir=$(_wf_pg_find_bindir) || { echo "postgres: binaries still not found after install" >&2; return 1; }
  fi
  _WF_PG_BIN=$bindir
  _wf_pg_pick_user || return 1

  local base="/tmp"
  [ "$(id -u)" -ne 0 ] && base="${TMPDIR:-/tmp}"
  _WF_PG_DIR=$(mktemp -d "$base/workflows-pg.XXXXXX") || return 1
  chmod 700 "$_WF_PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown "$_WF_PG_USER:" "$_WF_PG_DIR"
  local dir=$_WF_PG_DIR

  # Register cleanup now, so a failure below still removes the dir.
  # Chain postgres_stop onto the EXIT trap. Caveat: inside a `( ... )` subshell bash
  # reports the parent's (inactive) trap via `trap -p`, so there we install only
  # postgres_stop rather than re-running the parent's cleanup in the subshell.
  if [ "${_WF_PG_TRAP_OWNER:-}" != "$BASHPID" ]; then
    local prev=""
    [ "$BASHPID" = "$$" ] && prev=$(trap -p EXIT)
    if [ -z "$prev" ]; then
      trap 'postgres_stop' EXIT
    else
      eval "set -- $prev"           # -> trap -- 'CMD' EXIT
      trap "postgres_stop; $3" EXIT
    fi
    _WF_PG_TRAP_OWNER=$BASHPID
  fi

  if ! _wf_pg_as_user "$bindir/initdb" -D "$dir/data" -U postgres -E UTF8 --no-locale \
       --auth-local=trust --auth-host=trust --no-sync </dev/null >"$dir/initdb.log" 2>&1; then
    echo "postgres: initdb failed:" >&2; tail -n 30 "$dir/initdb.log" >&2
    postgres_stop; return 1
  fi

  # Create the database in single-user mode (needs no client binaries).
  if ! echo "CREATE DATABASE workflows_test;" |
       _wf_pg_as_user "$bindir/postgres" --single -D "$dir/data" -j postgres \
         >"$dir/single.log" 2>&1 || grep -q 'ERROR' "$dir/single.log"; then
    echo "postgres: CREATE DATABASE failed:" >&2; tail -n 30 "$dir/single.log" >&2
    postgres_stop; return 1
  fi

  local port="${WORKFLOWS_PG_PORT:-}" tries=0 p
  while :; do
    if [ -z "${WORKFLOWS_PG_PORT:-}" ]; then
      port=""
      for ((p = 54329 + tries * 7; p < 54329 + 500; p++)); do
        if _wf_pg_port_free "$p"; then port=$p; break; fi
      done
      [ -n "$port" ] || { echo "postgres: no free port found" >&2; postgres_stop; return 1; }
    fi
    cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
EOF
    if _wf_pg_as_user "$bindir/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
         </dev/null >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ -n "${WORKFLOWS_PG_PORT:-}" ] || [ "$tries" -ge 5 ] ||
       ! grep -qi 'could not bind\|address already in use\|could not create any TCP' "$dir/postgres.log" 2>/dev/null; then
      echo "postgres: failed to start:" >&2; tail -n 30 "$dir/postgres.log" >&2
      postgres_stop; return 1
    fi
    : >"$dir/postgres.log"   # port raced away; try another one
  done

  export WORKFLOWS_TEST_PG_URL="postgres://postgres@127.0.0.1:${port}/workflows_test"
  echo "postgres: $("$bindir/postgres" --version | sed 's/^postgres (PostgreSQL) //') (user $_WF_PG_USER, dir $dir) listening on 127.0.0.1:$port -> $WORKFLOWS_TEST_PG_URL" >&2
}

_wf_pg_start || return 1
