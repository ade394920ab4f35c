#!/usr/bin/env bash
# Backs up astrad's data directory into one tar.gz while the daemon keeps running.
#
#   scripts/backup.sh [DATA_DIR] [OUT]
#     DATA_DIR  default: $DATA_DIR, else ./data
#     OUT       a file name (.tar.gz), or an existing directory to put a timestamped file in;
#               default: ./backups/astra-data-<UTC timestamp>.tar.gz
#   Restore (daemon stopped):  mv data data.old && mkdir data &&
#                              tar -xzf BACKUP.tar.gz -C data --strip-components=1
#
# Why this order, and why no stop is needed. The store (DESIGN.md §4) is a set of checkpoint
# files (portal.json, orders.json, ..., instances/<id>/*.json) plus a journal (journal.jsonl,
# and rotated segments journal.<seq>.jsonl) that every transaction is appended to before it
# is acknowledged. Each checkpoint records the journal seq it includes, and on start the
# journal is replayed on top of the files, skipping what a file already holds. Plain `cp -r`
# of a live directory is not safe: it can take a checkpoint that is newer than the journal
# copy, or a journal from which the segments an older checkpoint needs were already trimmed.
# So this script:
#   1. copies the checkpoint files FIRST. They are only ever replaced whole (written to
#      <file>.tmp, fsynced, renamed), so each copy is one complete version; *.tmp are skipped.
#   2. copies the journal segments AFTER, oldest first, the live journal.jsonl last. The
#      journal only grows or gets trimmed after a newer checkpoint, so it now covers
#      everything after the (older) checkpoints just copied; replay brings them forward.
#      The live segment may be copied mid-append: its torn last line is dropped on load,
#      which is right, since that transaction was not durable (not acknowledged) yet.
#   3. checks that no checkpoint file was replaced and no segment rotated or trimmed while it
#      copied (same names, inodes, sizes, mtimes). A checkpoint that lands mid-copy could have
#      trimmed the segments an older copied file needs; then it starts over (a few attempts).
# The result restores to the state of some instant during the copy, losing nothing that was
# acknowledged before the copy began. .secrets (DATA_ENCRYPTION_KEY: without it stock keys and
# bot tokens cannot be decrypted), audit.jsonl and archive/ are included, so the archive is
# written mode 0600 and is as sensitive as the data directory itself.
set -euo pipefail
umask 077

data=${1:-${DATA_DIR:-./data}}
out=${2:-}
attempts=${BACKUP_ATTEMPTS:-5}

die() { echo "backup: $*" >&2; exit 1; }
[ -d "$data" ] || die "no data directory at '$data'"
data=$(cd "$data" && pwd)
ts=$(date -u +%Y%m%dT%H%M%SZ)
name="astra-data-$ts.tar.gz"
if [ -z "$out" ]; then
  mkdir -p backups
  out="backups/$name"
elif [ -d "$out" ]; then
  out="${out%/}/$name"
fi
case "$out" in *.tar.gz | *.tgz) ;; *) die "OUT must end in .tar.gz (got '$out')" ;; esac
outdir=$(cd "$(dirname "$out")" && pwd) || die "no directory for '$out'"
out="$outdir/$(basename "$out")"
case "$out/" in "$data"/*) die "OUT must not be inside the data directory" ;; esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/astra-backup.XXXXXX")
trap 'rm -rf "$stage"; rm -f "$out.part"' EXIT

# Everything but the journal and in-flight temp files, relative to $data, sorted.
checkpoints() {
  (cd "$data" && find . \( -type f -o -type l \) ! -name '*.tmp' ! -name 'journal.jsonl' \
      ! -name 'journal.*.jsonl' -print | sed 's|^\./||' | LC_ALL=C sort)
}
# Journal segments, oldest first (by the seq in the name), then the live one.
segments() {
  (cd "$data" && find . -maxdepth 1 -type f -name 'journal.*.jsonl' -printf '%f\n' |
      sed -n 's/^journal\.\([0-9][0-9]*\)\.jsonl$/\1 &/p' | LC_ALL=C sort -n | cut -d' ' -f2
   if [ -f journal.jsonl ]; then echo journal.jsonl; fi)
}
# What must not change during the copy: each checkpoint file's identity and content stamp,
# and the segment set (journal.jsonl keeps growing, so only its inode counts).
fingerprint() {
  (cd "$data" && checkpoints | while IFS= read -r f; do stat -c '%n %i %s %Y' -- "$f"; done
   segments | while IFS= read -r f; do stat -c '%n %i' -- "$f"; done) 2>/dev/null
}

ok=0
for attempt in $(seq 1 "$attempts"); do
  rm -rf "$stage/data"
  mkdir -p "$stage/data"
  before=$(fingerprint)
  copied=1
  (
    cd "$data"
    # 1. checkpoints (and .secrets, audit.jsonl, archive/), each one complete
    checkpoints | while IFS= read -r f; do
      cp -P --preserve=mode,timestamps --parents -- "$f" "$stage/data/" 2>/dev/null || exit 1
    done || exit 1
    # 2. the journal, after the checkpoints
    segments | while IFS= read -r f; do
      cp --preserve=mode,timestamps -- "$f" "$stage/data/" 2>/dev/null || exit 1
    done || exit 1
  ) || copied=0
  # 3. nothing replaced, rotated or trimmed meanwhile
  if [ "$copied" = 1 ] && [ "$(fingerprint)" = "$before" ]; then
    ok=1
    break
  fi
  echo "backup: the store checkpointed or rotated its journal during attempt $attempt; again" >&2
  sleep 1
done
[ "$ok" = 1 ] || die "no quiet moment in $attempts attempts (a checkpoint every time); try again"

{
  echo "astra data backup"
  echo "created: $ts"
  echo "host: $(hostname)"
  echo "source: $data"
  echo "restore: stop astrad, then tar -xzf <this archive> -C <empty DATA_DIR> --strip-components=1"
  echo "files:"
  (cd "$stage/data" && find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r f; do
     printf '  %s  %s\n' "$(sha256sum -- "$f" | cut -d' ' -f1)" "$f"; done)
} > "$stage/MANIFEST.txt"

# MANIFEST.txt sits beside data/, so the --strip-components=1 restore leaves it out
tar -C "$stage" --sort=name --numeric-owner -czf "$out.part" MANIFEST.txt data
mv "$out.part" "$out"
n=$(find "$stage/data" -type f | wc -l)
note=""; [ -f "$stage/data/.secrets" ] && note="; it holds .secrets (the data key): keep it private"
echo "backup: $out ($n files, $(du -h "$out" | cut -f1))$note"
