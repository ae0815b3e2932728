#!/usr/bin/env bash
# Load on the unlock endpoint: a member's phone unlocking a door over and over, every decision
# stored as an event, against a release build of `lintel serve` on loopback.
#
#   bench/unlock-load.sh sqlite            # a fresh SQLite file
#   bench/unlock-load.sh postgres URL      # a fresh database at URL (dropped and made again)
#
# Needs wrk (apt-get install wrk), jq and curl. Prints wrk's report: requests per second and
# latency percentiles. wrk and the server share this machine's cores.
set -euo pipefail

backend=${1:-sqlite}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

case "$backend" in
  sqlite) db="sqlite://$work/lintel.db" ;;
  postgres)
    admin=${2:-postgres://postgres@127.0.0.1:5432/postgres}
    psql "$admin" -qc 'DROP DATABASE IF EXISTS lintel_load' -c 'CREATE DATABASE lintel_load' >/dev/null
    db="${admin%/*}/lintel_load" ;;
  *) echo "usage: $0 sqlite | postgres [URL]" >&2; exit 2 ;;
esac

cargo build -q --release --bin lintel --manifest-path "$here/Cargo.toml"
lintel="$here/target/release/lintel"
export LINTEL_DATABASE_URL="$db"
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
"$lintel" --log-format json --log-level warn,lintel_server::app::outbox=info serve --listen "127.0.0.1:$port" \
  >"$work/out" 2>"$work/log" &
server=$!
for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done

# An organization whose owner is Ada, a site, a door, and an access for her at any time.
"$lintel" admin create-org --slug acme --name Acme --owner-email ada@example.com 2>/dev/null
key=$("$lintel" admin create-api-key --org acme --name load 2>/dev/null)
post() { curl -fs -X POST -H "authorization: Bearer $1" -H 'content-type: application/json' -d "$3" "$base$2"; }
curl -fs -X POST -H 'content-type: application/json' "$base/api/v1/auth/register" \
  -d '{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","phone":"+46701234567"}' >/dev/null
message() { for _ in $(seq 100); do
    found=$(grep -o "$1" "$work/log" | tail -1 || true); [ -n "$found" ] && { echo "$found"; return; }; sleep 0.1
  done; echo "no $1 in the log" >&2; exit 1; }
token=$(message 'confirm?token=[A-Za-z0-9_-]*' | cut -d= -f2)
sign_in=$(curl -fs -X POST -H 'content-type: application/json' "$base/api/v1/auth/email/verify" \
  -d "{\"token\":\"$token\"}" | jq -r .sign_in)
code=$(message 'code is [0-9]\{6\}' | grep -o '[0-9]\{6\}')
auth=$(curl -fs -X POST -H 'content-type: application/json' "$base/api/v1/auth/sms/verify" \
  -d "{\"sign_in\":\"$sign_in\",\"code\":\"$code\",\"device_name\":\"load\",\"pin\":\"2580\"}" | jq -r .auth_token)
site=$(post "$key" /api/v1/orgs/acme/sites '{"name":"HQ"}' | jq -r .id)
door=$(post "$key" /api/v1/orgs/acme/doors "{\"site_id\":\"$site\",\"name\":\"Front\"}" | jq -r .id)
member=$(curl -fs -H "authorization: Bearer $key" "$base/api/v1/orgs/acme/members" | jq -r '.items[0].id')
post "$key" /api/v1/orgs/acme/accesses \
  "{\"name\":\"Any time\",\"doors\":[{\"door_id\":\"$door\"}],\"users\":[\"$member\"]}" >/dev/null
answer=$(post "$auth" "/api/v1/orgs/acme/doors/$door/unlock" '{}')
echo "first unlock: $answer"
[ "$(echo "$answer" | jq -r .granted)" = true ] || { echo "the first unlock was not granted" >&2; exit 1; }

cat >"$work/unlock.lua" <<LUA
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $auth"
LUA
echo "== $backend: 10 s, 2 threads, 16 connections, POST /api/v1/orgs/acme/doors/{id}/unlock"
wrk -t2 -c16 -d10s --latency -s "$work/unlock.lua" "$base/api/v1/orgs/acme/doors/$door/unlock"
events=$(curl -fs -H "authorization: Bearer $key" "$base/api/v1/orgs/acme/events.csv?kind=decision" | tail -n +2 | wc -l)
echo "decisions on record: $events"
