#!/usr/bin/env bash
# A throwaway Upswing server with the bundled demo, for the end-to-end tests (playwright.config.ts starts one per
# database):
#
#   e2e/serve.sh sqlite PORT        a fresh data directory (SQLite in it)
#   e2e/serve.sh postgresql PORT    a fresh scratch database upswing_e2e_PORT on $UPSWING_E2E_POSTGRES_ADMIN_URL
#                                   (default postgresql://postgres@127.0.0.1:5432/postgres), dropped on exit
#
# It migrates and loads the demo (`upswing demo run` does both) and serves a copy of the built dashboard
# (dashboard/dist: build it first, `npx vite build`) on 127.0.0.1:PORT; /healthz answers once it is up. On
# SIGTERM/SIGINT (Playwright stops it so) the server stops and the scratch data goes.
set -euo pipefail

kind="${1:?usage: serve.sh sqlite|postgresql PORT}"
port="${2:?usage: serve.sh sqlite|postgresql PORT}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
upswing="$root/.venv/bin/upswing"

[[ -x "$upswing" ]] || { echo "serve.sh: $upswing is missing: run \`make install\` first" >&2; exit 1; }
[[ -f "$root/dashboard/dist/index.html" ]] || {
  echo "serve.sh: dashboard/dist is not built: run \`npx vite build\` in dashboard/ (or \`make build\`)" >&2; exit 1; }

# Only what this script sets reaches the server: a developer's own UPSWING_* settings would point it elsewhere.
while IFS='=' read -r name _; do unset "$name"; done < <(env | grep -E '^UPSWING_[A-Z0-9_]*=' || true)

data_dir="$(mktemp -d "${TMPDIR:-/tmp}/upswing-e2e-$kind-$port.XXXXXX")"
export UPSWING_DATA_DIR="$data_dir"
# A copy of the build: the run serves the files it started with, even if dashboard/dist is rebuilt meanwhile.
cp -R "$root/dashboard/dist" "$data_dir/dist"
export UPSWING_DASHBOARD_DIR="$data_dir/dist"
export UPSWING_LOG_LEVEL="${UPSWING_E2E_LOG_LEVEL:-WARNING}"
# The e2e flows wait for live signals: the embedded runner looks for work every half second.
export UPSWING_TASK_POLL_SECONDS=0.5

admin_url="${UPSWING_E2E_POSTGRES_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
database="upswing_e2e_$port"
drop_database() { PGOPTIONS="-c client_min_messages=warning" psql "$admin_url" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)"; }

case "$kind" in
  sqlite) ;;
  postgresql)
    drop_database
    psql "$admin_url" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$database\""
    # The admin URL with the scratch database in place of its own, in SQLAlchemy's psycopg form.
    base="${admin_url%/*}"
    export UPSWING_DATABASE_URL="postgresql+psycopg://${base#*://}/$database"
    ;;
  *) echo "serve.sh: unknown database '$kind' (sqlite or postgresql)" >&2; exit 2 ;;
esac

server=""
cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [[ "$kind" == postgresql ]]; then drop_database || true; fi
  rm -rf "$data_dir"
}
trap cleanup EXIT
trap 'cleanup; exit 0' INT TERM

# The server's output (the demo's progress bars, warnings) goes to a log, whose end is shown if it fails.
log="${TMPDIR:-/tmp}/upswing-e2e-$kind-$port.log"
echo "serve.sh: $kind demo on http://127.0.0.1:$port (data: $data_dir${UPSWING_DATABASE_URL:+, $UPSWING_DATABASE_URL}; log: $log)" >&2
# `demo run` migrates the database, writes the data directory's own secrets and loads the demo, then serves.
"$upswing" demo run --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
server=$!
status=0
wait "$server" || status=$?
server=""
if [[ $status -ne 0 ]]; then
  echo "serve.sh: the $kind server exited with $status; the end of $log:" >&2
  tail -n 40 "$log" >&2
fi
exit "$status"
