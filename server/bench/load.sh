#!/usr/bin/env bash
# Load benchmark of the control plane's snapshot distribution, beside nginx in the
# same run:
#   1. snapshot fetch throughput, 200 and 304 (If-None-Match), pennon vs nginx serving
#      the very same envelope file (wrk, 2 threads, 64 connections, 10 s each);
#   2. change-to-delivery latency on 1,000 open SSE streams (p50, p99), measured by the
#      `stream_latency` bench binary.
# Installs wrk and nginx from Debian's packages when missing. Needs python3 and curl.
# Usage: server/bench/load.sh   (env: DURATION=10s CONNECTIONS=64 STREAMS=1000 CHANGES=30 FLAGS=200)
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
streams="${STREAMS:-1000}"
changes="${CHANGES:-30}"
flags="${FLAGS:-200}"

log() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# 1,000 streams need more than the default 1,024 descriptors on both ends.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

log "building (release)"
cargo build --release -q -p pennon-server --bin pennon
cargo bench -q -p pennon-server --bench stream_latency --no-run 2>/dev/null

work="$(mktemp -d)"
chmod 755 "$work"   # nginx workers run as another user when started by root
pids=()
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -f "$work/server.log" ]; then
    log "failed ($status); server log:"; tail -n 20 "$work/server.log" >&2
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port="$(free_port)"
url="http://127.0.0.1:$port"
./target/release/pennon serve --data-dir "$work/data" --listen "127.0.0.1:$port" --log warn >"$work/banner" 2>"$work/server.log" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$work/banner" 2>/dev/null && break; sleep 0.1; done
token="$(awk '/admin token:/ { print $3 }' "$work/banner")"
sdk="$(awk '/server SDK key:/ { print $5 }' "$work/banner")"
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")

log "creating $flags flags with rules in development"
for i in $(seq "$flags"); do
  curl -sS --fail-with-body "${auth[@]}" -d "{\"key\": \"flag-$i\", \"type\": \"boolean\", \"tags\": [\"bench\"], \"owner\": \"team-$((i % 7))\"}" "$url/api/v1/flags" >/dev/null
  etag="$(curl -sfI "${auth[@]}" "$url/api/v1/environments/development/flags/flag-$i" | awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')"
  curl -sS --fail-with-body -X PUT "${auth[@]}" -H "If-Match: $etag" "$url/api/v1/environments/development/flags/flag-$i" -d "{
    \"enabled\": true, \"off_variant\": \"off\", \"fallthrough\": {\"rollout\": {\"variants\": [{\"variant\": \"on\", \"weight\": $((i * 397 % 100000))}, {\"variant\": \"off\", \"weight\": $((100000 - i * 397 % 100000))}]}},
    \"rules\": [{\"id\": \"staff\", \"conditions\": [{\"attribute\": \"email\", \"op\": \"ends_with\", \"value\": \"@acme.com\"}], \"serve\": {\"variant\": \"on\"}},
                {\"id\": \"beta\", \"conditions\": [{\"attribute\": \"app_version\", \"op\": \"semver_gte\", \"value\": \"2.$i.0\"}, {\"attribute\": \"country\", \"op\": \"in\", \"value\": [\"NZ\", \"AU\", \"CA\"]}], \"serve\": {\"variant\": \"on\"}}],
    \"targets\": [{\"variant\": \"on\", \"keys\": [\"user-$i\", \"user-$((i + 1))\"]}]}" >/dev/null
done

curl -sf -H "Authorization: Bearer $sdk" "$url/v1/snapshots/development" -o "$work/snapshot.json"
pennon_etag="$(curl -sfI -H "Authorization: Bearer $sdk" "$url/v1/snapshots/development" | awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')"
size="$(stat -c %s "$work/snapshot.json")"

nginx_port="$(free_port)"
mkdir -p "$work/www" "$work/nginx"
cp "$work/snapshot.json" "$work/www/snapshot.json"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    location / { default_type application/json; etag on; }
  }
}
NGINX
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5
nginx_etag="$(curl -sfI "http://127.0.0.1:$nginx_port/snapshot.json" | awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')"

rps() { wrk -t2 -c"$connections" -d"$duration" "$@" | awk '/Requests\/sec/ { print $2 }'; }
check() { # status code of one request, to prove what wrk measures
  curl -s -o /dev/null -w '%{http_code}' "$@"
}
log "snapshot: $size bytes; pennon ETag $pennon_etag; nginx ETag $nginx_etag"
[ "$(check -H "Authorization: Bearer $sdk" -H "If-None-Match: $pennon_etag" "$url/v1/snapshots/development")" = 304 ]
[ "$(check -H "If-None-Match: $nginx_etag" "http://127.0.0.1:$nginx_port/snapshot.json")" = 304 ]

log "wrk: pennon 200"
p200="$(rps -H "Authorization: Bearer $sdk" "$url/v1/snapshots/development")"
log "wrk: nginx 200"
n200="$(rps "http://127.0.0.1:$nginx_port/snapshot.json")"
log "wrk: pennon 304"
p304="$(rps -H "Authorization: Bearer $sdk" -H "If-None-Match: $pennon_etag" "$url/v1/snapshots/development")"
log "wrk: nginx 304"
n304="$(rps -H "If-None-Match: $nginx_etag" "http://127.0.0.1:$nginx_port/snapshot.json")"

log "latency on $streams streams, $changes changes"
latency="$(PENNON_BENCH_URL="$url" PENNON_BENCH_TOKEN="$token" PENNON_BENCH_SDK_KEY="$sdk" \
  PENNON_BENCH_STREAMS="$streams" PENNON_BENCH_CHANGES="$changes" \
  cargo bench -q -p pennon-server --bench stream_latency 2>/dev/null)"

printf '\nSnapshot fetch (%s bytes, wrk -t2 -c%s -d%s, same machine, same run)\n' "$size" "$connections" "$duration"
printf '  %-14s %12s %12s\n' "" "pennon" "nginx"
printf '  %-14s %12s %12s\n' "200 req/s" "$p200" "$n200"
printf '  %-14s %12s %12s\n' "304 req/s" "$p304" "$n304"
python3 -c "print('  304 ratio pennon/nginx: %.2f (goal >= 0.50)' % ($p304 / $n304))"
printf '\nChange-to-delivery\n%s\n' "$latency"
