#!/usr/bin/env bash
# Load on a release build of `lintel serve` on loopback, on both backends in one run: a bare
# request, a signed-in read, and a member's phone unlocking a door over and over (every
# decision stored as an event before it is answered), each at saturation and the unlock also
# at a steady 1,000 requests/s. Prints one table with each row's ratio to /healthz.
#
#   bench/load.sh                      # both backends (PostgreSQL at $LINTEL_BENCH_POSTGRES)
#   bench/load.sh sqlite               # one backend
#   bench/load.sh soak sqlite [MIN]    # MIN minutes (10) at half the unlock capacity just
#                                      # measured, resident memory sampled every minute
#
# Needs wrk, jq and sqlite3 (apt-get install wrk jq sqlite3), curl, psql for PostgreSQL, and oha for the steady
# rate (cargo install oha --locked; it holds a rate and corrects for coordinated omission).
# The load tools and the server share this machine's cores; the figures are for comparing
# rows of one run.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pg_admin=${LINTEL_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
seconds=${LINTEL_BENCH_SECONDS:-10}
work=$(mktemp -d)
server=
trap 'stop; rm -rf "$work"' EXIT

mode=table
if [ "${1:-}" = soak ]; then mode=soak; shift; fi
backends=${1:-sqlite postgres}
minutes=${2:-10}

for tool in wrk jq curl oha sqlite3; do
  command -v "$tool" >/dev/null || { echo "bench/load.sh needs $tool (see the top of this file)" >&2; exit 2; }
done
if [ -z "${LINTEL_BIN:-}" ]; then
  cargo build -q --release --bin lintel --manifest-path "$here/Cargo.toml"
  LINTEL_BIN="$here/target/release/lintel"
fi

stop() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi; }

# Starts a server on a fresh database of backend $1, makes Ada's organization with a door she
# may open at any time, signs her in (link and code from the log), and sets $base, $auth,
# $key and $door.
start() {
  local db
  case "$1" in
    sqlite) rm -f "$work"/lintel.db*; db="sqlite://$work/lintel.db" ;;
    postgres)
      psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS lintel_load' -c 'CREATE DATABASE lintel_load' >/dev/null
      db="${pg_admin%/*}/lintel_load" ;;
    *) echo "unknown backend $1: sqlite or postgres" >&2; exit 2 ;;
  esac
  export LINTEL_DATABASE_URL="$db"
  local port=$((20000 + RANDOM % 20000))
  base="http://127.0.0.1:$port"
  : >"$work/log"
  "$LINTEL_BIN" --log-format json --log-level warn,lintel_server::app::outbox=info \
    serve --listen "127.0.0.1:$port" >"$work/out" 2>"$work/log" &
  server=$!
  for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
  "$LINTEL_BIN" admin create-org --slug acme --name Acme --owner-email ada@example.com 2>/dev/null >/dev/null
  key=$("$LINTEL_BIN" admin create-api-key --org acme --name load 2>/dev/null)
  curl -fs -X POST -H 'content-type: application/json' "$base/api/v1/auth/register" \
    -d '{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","phone":"+46701234567"}' >/dev/null
  local token sign_in code site member
  token=$(from_log 'confirm?token=[A-Za-z0-9_-]*' | cut -d= -f2)
  sign_in=$(curl -fs -X POST -H 'content-type: application/json' "$base/api/v1/auth/email/verify" \
    -d "{\"token\":\"$token\"}" | jq -r .sign_in)
  code=$(from_log 'code is [0-9]\{6\}' | grep -o '[0-9]\{6\}')
  auth=$(curl -fs -X POST -H 'content-type: application/json' "$base/api/v1/auth/sms/verify" \
    -d "{\"sign_in\":\"$sign_in\",\"code\":\"$code\",\"device_name\":\"load\",\"pin\":\"2580\"}" | jq -r .auth_token)
  site=$(post "$key" /api/v1/orgs/acme/sites '{"name":"HQ"}' | jq -r .id)
  door=$(post "$key" /api/v1/orgs/acme/doors "{\"site_id\":\"$site\",\"name\":\"Front\"}" | jq -r .id)
  member=$(curl -fs -H "authorization: Bearer $key" "$base/api/v1/orgs/acme/members" | jq -r '.items[0].id')
  post "$key" /api/v1/orgs/acme/accesses \
    "{\"name\":\"Any time\",\"doors\":[{\"door_id\":\"$door\"}],\"users\":[\"$member\"]}" >/dev/null
  [ "$(post "$auth" "/api/v1/orgs/acme/doors/$door/unlock" '{}' | jq -r .granted)" = true ] \
    || { echo "the first unlock was not granted" >&2; exit 1; }
}

post() { curl -fs -X POST -H "authorization: Bearer $1" -H 'content-type: application/json' -d "$3" "$base$2"; }

from_log() {
  for _ in $(seq 100); do
    found=$(grep -o "$1" "$work/log" | tail -1 || true)
    [ -n "$found" ] && { echo "$found"; return; }
    sleep 0.1
  done
  echo "no $1 in the log" >&2; exit 1
}

# wrk at saturation (2 threads, 16 connections): "requests/s p99_ms".
saturate() {
  local method=$1 path=$2 bearer=${3:-}
  cat >"$work/req.lua" <<LUA
wrk.method = "$method"
wrk.headers["content-type"] = "application/json"
$( [ "$method" = POST ] && echo 'wrk.body = "{}"' )
$( [ -n "$bearer" ] && echo "wrk.headers[\"authorization\"] = \"Bearer $bearer\"" )
LUA
  wrk -t2 -c16 -d"${seconds}s" --latency -s "$work/req.lua" "$base$path" >"$work/wrk"
  if grep -q 'Non-2xx' "$work/wrk"; then echo "non-2xx answers to $method $path:" >&2; cat "$work/wrk" >&2; exit 1; fi
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$work/wrk")
  echo "$rps $p99"
}

# oha at a steady rate $1 for $2 seconds, unlocking: "requests/s p50_ms p99_ms".
steady() {
  oha -z "${2}s" -q "$1" -c 16 --latency-correction --no-tui --output-format json -m POST \
    -H "authorization: Bearer $auth" -H 'content-type: application/json' -d '{}' \
    "$base/api/v1/orgs/acme/doors/$door/unlock" >"$work/oha"
  jq -r '"\(.summary.requestsPerSec) \(.latencyPercentiles.p50 * 1000) \(.latencyPercentiles.p99 * 1000)"' "$work/oha"
}

# Decisions on record, counted in the database itself (the CSV export stops at its limit).
decisions() {
  local sql="SELECT COUNT(*) FROM events WHERE kind LIKE 'decision.%'"
  case "$LINTEL_DATABASE_URL" in
    sqlite://*) sqlite3 "${LINTEL_DATABASE_URL#sqlite://}" "$sql" ;;
    *) psql -tAc "$sql" "$LINTEL_DATABASE_URL" ;;
  esac
}

rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$server/status"; }

row() { printf '%-44s %-9s %12s %9s %10s\n' "$@"; }

if [ "$mode" = soak ]; then
  for backend in $backends; do
    start "$backend"
    read -r capacity _ < <(saturate POST "/api/v1/orgs/acme/doors/$door/unlock" "$auth")
    rate=$(awk -v c="$capacity" 'BEGIN {printf "%d", c / 2}')
    echo "== soak, $backend: $minutes min of unlocks at $rate/s (half of $capacity/s measured just now)"
    printf '%-8s %10s %10s %10s %12s\n' minute rss_MiB req/s p99_ms decisions
    printf '%-8s %10s %10s %10s %12s\n' 0 "$(rss_mib)" - - "$(decisions)"
    for minute in $(seq "$minutes"); do
      read -r rps _ p99 < <(steady "$rate" 60)
      printf '%-8s %10s %10.0f %10.2f %12s\n' "$minute" "$(rss_mib)" "$rps" "$p99" "$(decisions)"
    done
    stop
  done
  exit 0
fi

echo "lintel load, $(nproc) cores shared with the load tools, ${seconds} s a row, $(date -u +%FT%TZ)"
row request backend requests/s p99_ms vs_healthz
for backend in $backends; do
  start "$backend"
  read -r health health_p99 < <(saturate GET /healthz)
  row "GET /healthz" "$backend" "$health" "$health_p99" 1.000
  read -r rps p99 < <(saturate GET /api/v1/me "$auth")
  row "GET /api/v1/me (device token)" "$backend" "$rps" "$p99" "$(awk -v a="$rps" -v b="$health" 'BEGIN {printf "%.3f", a / b}')"
  before=$(decisions)
  read -r rps p99 < <(saturate POST "/api/v1/orgs/acme/doors/$door/unlock" "$auth")
  row "phone unlock (decision + durable event)" "$backend" "$rps" "$p99" "$(awk -v a="$rps" -v b="$health" 'BEGIN {printf "%.3f", a / b}')"
  answered=$(awk '/requests in/ {print $1}' "$work/wrk")
  read -r rps p50 p99 < <(steady 1000 "$seconds")
  row "phone unlock at 1,000/s held (p50 $(printf %.2f "$p50") ms)" "$backend" "$(printf %.0f "$rps")" "$(printf %.2f "$p99")" -
  steady_answered=$(jq -r '.statusCodeDistribution["200"] // 0' "$work/oha")
  after=$(decisions)
  echo "   $backend: $((after - before)) decisions on record for $((answered + steady_answered)) unlocks answered"
  stop
done
