#!/usr/bin/env bash
# GET /health throughput and latency: astrad against nginx serving the same body, in one run.
#
#   bench/http_health.sh            (root: nginx runs as root in the foreground)
#   WRK_ARGS="-t2 -c100 -d10s" bench/http_health.sh
#
# astrad: build/astrad (the release build, gcc -O2), on a free loopback port, with a temporary
# DATA_DIR/LOG_DIR and LOG_LEVEL=warn, so that the per-request access log line (info) is not
# what gets measured. nginx (Debian nginx-light): bench/nginx.conf, access_log off,
# `location = /health { return 200 '{"status":"ok"}'; }`, run twice: worker_processes 1 (one
# event loop, like astrad) and auto (one per CPU). wrk runs on the same machine and competes
# for the same CPUs; the ratio is what to compare between machines, not the absolute figures.
# Never part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WRK_ARGS=${WRK_ARGS:--t2 -c100 -d10s}

for c in wrk nginx curl python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "http_health: $c is missing (bash scripts/deps.sh test)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "http_health: run as root (nginx's master runs as root here)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/astra-bench-http.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do stop "$p"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}
wait_http() { # URL: 0 once it answers 200, within 10 s
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
stop() { # PID: SIGTERM, then SIGKILL after 15 s
  kill -0 "$1" 2>/dev/null || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

declare -A RPS
# wrk's figures: "<req/s> <p50> <p99> <errors>" (latencies as wrk prints them: 1.23ms)
run_wrk() {
  local name=$1 url=$2 out="$tmp/wrk-$1.txt"
  # shellcheck disable=SC2086
  wrk $WRK_ARGS --latency "$url" >"$out" 2>&1
  sed 's/^/#   /' "$out" >&2
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
  p50=$(awk '$1=="50%"{print $2}' "$out")
  p99=$(awk '$1=="99%"{print $2}' "$out")
  errs=$( { grep -E '^ *(Socket errors|Non-2xx)' "$out" || true; } | tr -s ' ' | paste -sd';' -)
  printf '%-22s %12s %10s %10s  %s\n' "$name" "${rps:-?}" "${p50:-?}" "${p99:-?}" "${errs:-no errors}"
  RPS[$name]=${rps:-0}
}

echo "# http_health: $(date -u +%FT%TZ)"
echo "# machine: $(uname -srm), nproc $(nproc), $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "# astrad $(cat VERSION) (build/astrad, gcc -O2), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ', work tree modified')"
echo "# $(nginx -v 2>&1 | sed 's/^nginx version: //') (nginx-light), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
echo "# load: wrk $WRK_ARGS --latency, on the same machine as the server"
echo "# astrad runs with LOG_LEVEL=warn: its info-level access log line per request is off"

# ---- astrad ----
make -s -j"$(nproc)" build/astrad >&2 || { echo "http_health: build/astrad does not build" >&2; exit 1; }
pp=$(free_port); ap=$(free_port)
mkdir -p "$tmp/astrad/data" "$tmp/astrad/logs"
(cd "$tmp/astrad" && exec env PORTAL_PORT="$pp" ADMIN_PORT="$ap" PORTAL_HOST=127.0.0.1 \
   ADMIN_HOST=127.0.0.1 DATA_DIR="$tmp/astrad/data" LOG_DIR="$tmp/astrad/logs" \
   WEB_DIR="$ROOT/web" LOG_LEVEL=warn "$ROOT/build/astrad" >"$tmp/astrad/out.log" 2>&1) &
apid=$!
pids+=("$apid")
if ! wait_http "http://127.0.0.1:$pp/health"; then
  tail -20 "$tmp/astrad/out.log" >&2
  echo "http_health: astrad did not answer /health on port $pp" >&2
  exit 1
fi
echo "# astrad /health: $(curl -s "http://127.0.0.1:$pp/health") ($(curl -s -o /dev/null -w '%{size_header}+%{size_download}' "http://127.0.0.1:$pp/health") bytes)"

# ---- nginx, one config per worker setting ----
start_nginx() { # WORKERS -> NGX_PORT, NGX_PID
  local w=$1 d="$tmp/nginx-$1"
  mkdir -p "$d"
  NGX_PORT=$(free_port)
  sed -e "s|@WORKERS@|$w|g" -e "s|@PORT@|$NGX_PORT|g" -e "s|@TMP@|$d|g" bench/nginx.conf >"$d/nginx.conf"
  nginx -p "$d" -c "$d/nginx.conf" >"$d/out.log" 2>&1 &
  NGX_PID=$!
  pids+=("$NGX_PID")
  wait_http "http://127.0.0.1:$NGX_PORT/health" || { cat "$d/out.log" "$d/error.log" >&2 2>/dev/null; echo "http_health: nginx ($w) did not start" >&2; exit 1; }
}
start_nginx 1; n1_port=$NGX_PORT; n1_pid=$NGX_PID
echo "# nginx /health: $(curl -s "http://127.0.0.1:$n1_port/health") ($(curl -s -o /dev/null -w '%{size_header}+%{size_download}' "http://127.0.0.1:$n1_port/health") bytes)"

printf '%-22s %12s %10s %10s  %s\n' "server" "req/s" "p50" "p99" "errors"
run_wrk astrad "http://127.0.0.1:$pp/health"
stop "$apid"
run_wrk nginx_workers_1 "http://127.0.0.1:$n1_port/health"
stop "$n1_pid"
start_nginx auto; na_port=$NGX_PORT; na_pid=$NGX_PID
run_wrk nginx_workers_auto "http://127.0.0.1:$na_port/health"
stop "$na_pid"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "?" }'; }
echo "ratio astrad/nginx(workers 1):    $(ratio "${RPS[astrad]}" "${RPS[nginx_workers_1]}")"
echo "ratio astrad/nginx(workers auto): $(ratio "${RPS[astrad]}" "${RPS[nginx_workers_auto]}")"
