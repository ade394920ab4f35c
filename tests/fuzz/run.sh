#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, coverage on the library too) and runs each
# for the given number of seconds (default 30) from its corpus in tests/fuzz/corpus/<name>.
#   tests/fuzz/run.sh [SECONDS]     `make fuzz` runs it; tests/run.sh runs it for a few seconds
# New inputs found go to build-fuzz/corpus/<name> (not committed); crashes to build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
make -s SAN=1 BUILD=build-fuzz EXTRA_CFLAGS=-fsanitize=fuzzer-no-link build-fuzz/libastra.a
PKGS="libuv libmicrohttpd libcurl jansson libwebsockets openssl uuid zlib"
status=0
for src in tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  short=${name#fuzz_}
  bin=build-fuzz/$name
  clang -std=c17 -g -O1 -D_GNU_SOURCE -Iinclude $(pkg-config --cflags $PKGS) \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -o "$bin" "$src" build-fuzz/libastra.a $(pkg-config --libs $PKGS) -lpthread -lm
  mkdir -p "build-fuzz/corpus/$short"
  if "$bin" -max_total_time="$secs" -timeout=10 -artifact_prefix="build-fuzz/$short-" \
      "build-fuzz/corpus/$short" "tests/fuzz/corpus/$short" >"build-fuzz/$short.log" 2>&1; then
    echo "ok - fuzz $short ($secs s, $(grep -o 'Done [0-9]* runs' "build-fuzz/$short.log" | awk '{print $2}') runs)"
  else
    echo "not ok - fuzz $short: see build-fuzz/$short.log"
    tail -30 "build-fuzz/$short.log" | sed 's/^/#   /'
    status=1
  fi
done
exit $status
