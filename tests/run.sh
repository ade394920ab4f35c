#!/usr/bin/env bash
# The whole suite: `make test` runs this, and .ci/run runs `make test`.
#  1. installs missing Debian packages (as root; otherwise prints the apt-get line) and the
#     npm packages the tests use;
#  2. builds astrad and the unit tests twice: gcc -O2 (build/) and clang with ASan+UBSan
#     (build-asan/);
#  3. runs the unit tests, then the end-to-end and browser tests against the real binary, for
#     each build;
#  4. checks the container files (docker-compose config; image-check when ../shared is there).
# Every step prints TAP-like "ok - ..." / "not ok - ..." lines; the last line is the total:
# "N passed, N failed". Exit status 1 when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG_DIR=${TEST_LOG_DIR:-$ROOT/tests/artifacts}
mkdir -p "$LOG_DIR"
passed=0
failed=0
failures=()

# Counts the TAP-like lines of a step's output (also echoed), and the step's own exit status
# when it printed nothing countable (a crash before the first test must not pass).
count() {
  local name=$1 out=$2 rc=$3
  local p f
  p=$(grep -c '^ok - ' "$out" || true)
  f=$(grep -c '^not ok - ' "$out" || true)
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "not ok - $name exited with status $rc"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$f" -gt 0 ] && failures+=("$name")
  return 0
}

step() {
  local name=$1
  shift
  local out="$LOG_DIR/$(echo "$name" | tr '/ ' '__').log"
  echo "# --- $name"
  "$@" >"$out" 2>&1
  local rc=$?
  grep -E '^(ok|not ok) - |^#   ' "$out" | grep -v '^ok - ' || true
  count "$name" "$out" "$rc"
  echo "# $name: $(grep -c '^ok - ' "$out" || true) ok, $(grep -c '^not ok - ' "$out" || true) not ok (log: $out)"
}

bash scripts/deps.sh build test || { echo "0 passed, 1 failed"; exit 1; }
if [ -f tests/package.json ]; then
  (cd tests && { [ -d node_modules ] && [ node_modules -nt package-lock.json ]; } || npm ci --no-audit --no-fund --silent) \
    || { echo "not ok - npm ci"; echo "0 passed, 1 failed"; exit 1; }
fi

for variant in plain asan; do
  if [ "$variant" = asan ]; then mk="make -s SAN=1"; bdir=build-asan; else mk="make -s"; bdir=build; fi
  echo "# === $variant build"
  if ! $mk -j2 unit >"$LOG_DIR/build-$variant.log" 2>&1; then
    tail -30 "$LOG_DIR/build-$variant.log"
    echo "not ok - build ($variant)"
    failed=$((failed + 1))
    failures+=("build $variant")
    continue
  fi
  echo "ok - build ($variant)"
  passed=$((passed + 1))
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  for t in "$bdir"/tests/test_*; do
    [ -x "$t" ] || continue
    step "unit/$variant/$(basename "$t")" "$t"
  done
  if [ -f tests/e2e/run.mjs ]; then
    step "e2e/$variant" node tests/e2e/run.mjs --binary "$ROOT/$bdir/astrad"
  fi
  if [ -f tests/browser/run.mjs ]; then
    step "browser/$variant" node tests/browser/run.mjs --binary "$ROOT/$bdir/astrad"
  fi
done

# A short fuzzing pass over the committed corpora: catches a regression on known inputs and
# proves the targets still build; `make fuzz` runs them for longer.
step "fuzz" bash tests/fuzz/run.sh "${FUZZ_SECONDS:-5}"

if [ -f tests/container.sh ]; then
  step "container" bash tests/container.sh
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "# failed steps: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
