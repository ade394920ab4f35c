#!/usr/bin/env bash
# The container deliverable, checked as far as this machine allows (run by tests/run.sh).
#  (a) docker-compose.yml is valid for Debian's docker-compose (1.29) and keeps its promises
#      (admin port on the host's loopback only, restart policy, grace period, healthcheck);
#  (b) the Dockerfile reads the package lists from deps/*.txt (the single source), has two
#      debian:bookworm-slim stages, a non-root USER and a HEALTHCHECK; .dockerignore keeps
#      data and secrets out of the build context;
#  (c) scripts/backup.sh produces a restorable archive of a data directory;
#  (d) ../shared/tools/image-check builds the image with buildah and probes /health, when
#      ../shared is present and we are root; otherwise one "# SKIP" line says why.
# Prints TAP-like "ok - ..." / "not ok - ..." lines and always exits 0: the counts carry the
# result. Logs go to tests/artifacts/ (or $TEST_LOG_DIR).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
ART=${TEST_LOG_DIR:-$ROOT/tests/artifacts}
mkdir -p "$ART"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
check() { # check "description" command...
  local d=$1
  shift
  if "$@"; then ok "$d"; else nok "$d"; fi
}

# ---- (a) docker-compose.yml ----
# Checked on a copy beside an empty .env: Compose 1.29 insists on the env_file existing, and
# the repository's own .env (if any) is neither needed, nor read (its secrets would land in
# the log), nor ever created here.
if ! command -v docker-compose >/dev/null 2>&1; then
  nok "docker-compose config: docker-compose is not installed (deps/test.txt lists it)"
elif [ ! -f docker-compose.yml ]; then
  nok "docker-compose.yml exists"
else
  cp docker-compose.yml "$tmp/docker-compose.yml"
  : >"$tmp/.env"
  if docker-compose -f "$tmp/docker-compose.yml" config -q >"$ART/compose-config.log" 2>&1; then
    ok "docker-compose config -q accepts docker-compose.yml"
    docker-compose -f "$tmp/docker-compose.yml" config >"$tmp/compose.out" 2>/dev/null
    check "compose: admin port 3000 published on 127.0.0.1 only" \
      grep -Eq '^ *- 127\.0\.0\.1:3000:3000(/tcp)?$' "$tmp/compose.out"
    check "compose: no admin port on every interface" \
      bash -c "! grep -Eq '^ *- (0\.0\.0\.0:)?3000:3000|published: 3000\$' '$tmp/compose.out'"
    check "compose: portal port 3100 published" \
      bash -c "grep -Eq '^ *- (published: 3100|.*3100:3100)' '$tmp/compose.out'"
    check "compose: data and logs volumes" \
      bash -c "grep -q ':/app/data' '$tmp/compose.out' && grep -q ':/app/logs' '$tmp/compose.out'"
    check "compose: restart unless-stopped, stop_grace_period 30s, healthcheck on /health" \
      bash -c "grep -q 'restart: unless-stopped' '$tmp/compose.out' &&
               grep -q 'stop_grace_period: 30s' '$tmp/compose.out' &&
               grep -q '/health' '$tmp/compose.out'"
  else
    nok "docker-compose config -q accepts docker-compose.yml"
    sed 's/^/#   /' "$ART/compose-config.log"
  fi
fi

# ---- (b) Dockerfile ----
if [ ! -f Dockerfile ]; then
  nok "Dockerfile exists"
else
  # instructions only, comments dropped and continuation lines joined
  sed -e '/^[[:space:]]*#/d' Dockerfile | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' >"$tmp/Dockerfile.flat"
  for list in build runtime; do
    check "Dockerfile installs the packages of deps/$list.txt by reading that file" \
      grep -Eq "^RUN .*deps/$list\.txt.*xargs apt-get install|^RUN .*/$list\.txt.*xargs apt-get install" "$tmp/Dockerfile.flat"
  done
  check "Dockerfile copies deps/ (the package lists) into the build" \
    grep -Eq '^COPY +(deps/?|deps/runtime\.txt) ' "$tmp/Dockerfile.flat"
  check "Dockerfile has two FROM debian:bookworm-slim stages" \
    test "$(grep -Eic '^FROM +debian:bookworm-slim( |$)' "$tmp/Dockerfile.flat")" -eq 2
  check "Dockerfile has a HEALTHCHECK on /health" \
    grep -Eq '^HEALTHCHECK .*curl .*/health' "$tmp/Dockerfile.flat"
  check "Dockerfile runs as a non-root USER" \
    bash -c "u=\$(grep -Ei '^USER ' '$tmp/Dockerfile.flat' | tail -1 | awk '{print \$2}');
             [ -n \"\$u\" ] && [ \"\$u\" != root ] && [ \"\${u%%:*}\" != 0 ]"
  check "Dockerfile ENTRYPOINT is astrad" grep -Eq '^ENTRYPOINT +\["astrad"' "$tmp/Dockerfile.flat"
  check "Dockerfile cleans the apt lists in each stage" \
    test "$(grep -c 'rm -rf /var/lib/apt/lists' "$tmp/Dockerfile.flat")" -ge 2
  check ".dockerignore keeps .env, data/, logs/ and build/ out of the build context" \
    bash -c "for p in .env data logs build; do grep -qx \"\$p\" .dockerignore || exit 1; done"
fi

# ---- (c) scripts/backup.sh on a fake data directory ----
if [ -f scripts/backup.sh ]; then
  d="$tmp/bk/data"
  mkdir -p "$d/instances/i1" "$tmp/bk/out" "$tmp/bk/restore"
  echo '{"version":1,"seq":2,"orders":{}}' >"$d/orders.json"
  echo '{"version":1,"seq":2,"stock":{}}' >"$d/instances/i1/stock.json"
  echo 'half-written' >"$d/orders.json.tmp"
  printf '{"seq":1}\n{"seq":2}\n' >"$d/journal.2.jsonl"
  printf '{"seq":3}\n{"se' >"$d/journal.jsonl"
  echo 'DATA_ENCRYPTION_KEY=00' >"$d/.secrets"
  if bash scripts/backup.sh "$d" "$tmp/bk/out" >"$ART/backup.log" 2>&1; then
    a=$(find "$tmp/bk/out" -name "astra-data-*.tar.gz" | head -1)
    if [ -n "$a" ] && tar -xzf "$a" -C "$tmp/bk/restore" --strip-components=1 2>>"$ART/backup.log"; then
      check "backup.sh: timestamped archive restores checkpoints, journal and .secrets, without *.tmp" \
        bash -c "cd '$tmp/bk/restore' && cmp -s orders.json '$d/orders.json' &&
                 cmp -s instances/i1/stock.json '$d/instances/i1/stock.json' &&
                 cmp -s journal.2.jsonl '$d/journal.2.jsonl' && cmp -s journal.jsonl '$d/journal.jsonl' &&
                 test -f .secrets && ! test -e orders.json.tmp"
      check "backup.sh: archive is private (mode 0600)" test "$(stat -c %a "$a")" = 600
    else
      nok "backup.sh: produced an archive that tar can extract"
    fi
  else
    nok "backup.sh ran"
    sed 's/^/#   /' "$ART/backup.log"
  fi
fi

# ---- (d) the image, built and probed for real ----
ic="$ROOT/../shared/tools/image-check"
if [ ! -f "$ic" ]; then
  echo "ok - image-check skipped: ../shared not present # SKIP"
elif [ "$(id -u)" -ne 0 ]; then
  echo "ok - image-check skipped: it needs root (buildah, debootstrap) # SKIP"
else
  if bash "$ic" "$ROOT" >"$ART/image-check.log" 2>&1; then
    ok "image-check: the image builds and answers /health ($(grep -o 'image .* answers /health' "$ART/image-check.log" | head -1))"
  else
    nok "image-check: build and /health probe (log: $ART/image-check.log)"
    tail -15 "$ART/image-check.log" | sed 's/^/#   /'
  fi
  # image-check keeps its detail in /tmp; keep a copy with the suite's artifacts
  for f in build run; do
    [ -f "/tmp/image-check-$f.log" ] && cp "/tmp/image-check-$f.log" "$ART/image-check-$f.log"
  done
fi
exit 0
