#!/usr/bin/env bash
# Runs every benchmark and appends its output to bench/results/ (gitignored).
#
#   make bench                   (builds build/astrad and the C benchmarks, then this)
#   bench/run.sh [NAME...]       only the named ones (http_health, idle_rss, a C bench's name)
#
# Benchmarks: the bench/*.sh scripts (not this one), bench/*.mjs (node), then the C benchmarks the Makefile builds
# from bench/*.c into build/bench/. Each run's output goes to
# bench/results/<UTC time>-<name>.txt, and one line per benchmark is appended to
# bench/results/history.log. Benchmarks are never part of the test suite (DESIGN.md §8): a
# figure depends on the machine, so compare ratios and trends, not absolute numbers.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=bench/results
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

benches=()
for f in bench/*.sh; do
  [ "$(basename "$f")" = run.sh ] && continue
  benches+=("$f")
done
for f in bench/*.mjs; do
  [ -f "$f" ] && benches+=("$f")
done
for f in build/bench/*; do
  [ -f "$f" ] && [ -x "$f" ] && benches+=("$f")
done

failed=0
for b in "${benches[@]}"; do
  name=$(basename "$b"); name=${name%.sh}; name=${name%.mjs}
  if [ $# -gt 0 ]; then
    want=0
    for a in "$@"; do [ "$a" = "$name" ] && want=1; done
    [ "$want" = 1 ] || continue
  fi
  file="$out/$stamp-$name.txt"
  echo "# === $name -> $file"
  case "$b" in
    *.sh) bash "$b" 2>&1 | tee "$file" ;;
    *.mjs) node "$b" 2>&1 | tee "$file" ;;
    *) "$b" 2>&1 | tee "$file" ;;
  esac
  rc=${PIPESTATUS[0]}
  # the summary lines: everything but comments and wrk's indented detail
  summary=$(grep -v '^#' "$file" | paste -sd'|' - | tr -s ' ')
  printf '%s %s rc=%s %s\n' "$stamp" "$name" "$rc" "$summary" >>"$out/history.log"
  [ "$rc" -eq 0 ] || { echo "# $name failed (exit $rc)"; failed=1; }
done
exit "$failed"
