#!/usr/bin/env bash
# Memory of an idle astrad with an empty data directory.
#
#   bench/idle_rss.sh            IDLE_SECONDS=2 by default
#
# 1. starts build/astrad (release build) on free loopback ports with an empty temp DATA_DIR,
#    waits until /health answers, then IDLE_SECONDS more, and reads VmRSS, VmHWM and Threads
#    from /proc/<pid>/status;
# 2. the same short life under `/usr/bin/time -v` (start, /health, wait, SIGTERM, clean exit),
#    for the kernel's maximum resident set size over the whole run, start and stop included.
# Never part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IDLE=${IDLE_SECONDS:-2}

for c in curl python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "idle_rss: $c is missing (bash scripts/deps.sh test)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "idle_rss: /usr/bin/time is missing (Debian package time)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/astra-bench-rss.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}
wait_http() { # URL PID: 0 once URL answers 200 within 10 s; 1 early if PID died
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# The environment of one run in directory $1 (empty data, its own ports, cwd there).
astrad_env() {
  mkdir -p "$1/data" "$1/logs"
  PP=$(free_port); AP=$(free_port)
  ENVV=(PORTAL_PORT="$PP" ADMIN_PORT="$AP" PORTAL_HOST=127.0.0.1 ADMIN_HOST=127.0.0.1
        DATA_DIR="$1/data" LOG_DIR="$1/logs" WEB_DIR="$ROOT/web" LOG_LEVEL=info)
}
status_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status"; }

echo "# idle_rss: $(date -u +%FT%TZ)"
echo "# machine: $(uname -srm), nproc $(nproc), $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "# astrad $(cat VERSION) (build/astrad, gcc -O2), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ', work tree modified')"
echo "# empty DATA_DIR, idle ${IDLE}s after /health first answers"
make -s -j"$(nproc)" build/astrad >&2 || { echo "idle_rss: build/astrad does not build" >&2; exit 1; }

# ---- 1. /proc/<pid>/status of the idle daemon ----
astrad_env "$tmp/a"
(cd "$tmp/a" && exec env "${ENVV[@]}" "$ROOT/build/astrad" >"$tmp/a/out.log" 2>&1) &
pid=$!
pids+=("$pid")
if ! wait_http "http://127.0.0.1:$PP/health" "$pid"; then
  tail -20 "$tmp/a/out.log" >&2
  echo "idle_rss: astrad did not answer /health" >&2
  exit 1
fi
sleep "$IDLE"
rss=$(status_kb "$pid" VmRSS); hwm=$(status_kb "$pid" VmHWM); thr=$(status_kb "$pid" Threads)
echo "idle VmRSS: ${rss} kB   VmHWM: ${hwm} kB   threads: ${thr}   (/proc/$pid/status)"
kill -TERM "$pid"
wait "$pid" && echo "# exit after SIGTERM: 0" || echo "# exit after SIGTERM: $?"

# ---- 2. /usr/bin/time -v around a short life ----
astrad_env "$tmp/b"
(cd "$tmp/b" && exec /usr/bin/time -v -o "$tmp/b/time.txt" env "${ENVV[@]}" "$ROOT/build/astrad" \
   >"$tmp/b/out.log" 2>&1) &
tpid=$!
pids+=("$tpid")
if ! wait_http "http://127.0.0.1:$PP/health" "$tpid"; then
  tail -20 "$tmp/b/out.log" >&2
  echo "idle_rss: astrad under time -v did not answer /health" >&2
  exit 1
fi
sleep "$IDLE"
# the daemon is time's child (env execs it); the signal goes to it, not to time
apid=$(pgrep -P "$tpid" | head -1)
[ -n "$apid" ] || { echo "idle_rss: no astrad under /usr/bin/time" >&2; exit 1; }
kill -TERM "$apid"
wait "$tpid" || true
maxrss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$tmp/b/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$tmp/b/time.txt")
st=$(awk -F': ' '/Exit status/{print $2}' "$tmp/b/time.txt")
echo "max RSS (time -v): ${maxrss} kB   wall: ${wall}   exit status: ${st}"
