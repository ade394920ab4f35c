#!/usr/bin/env bash
# Makes sure the Debian packages listed in deps/<list>.txt are installed.
#   scripts/deps.sh build [test ...]
# As root, missing packages are installed with apt-get; otherwise the exact apt-get line is
# printed and the script exits 1. deps/*.txt are the single source of the package lists: the
# Dockerfile reads the same files.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for list in "$@"; do
  while read -r pkg || [ -n "$pkg" ]; do
    case "$pkg" in ''|'#'*) continue ;; esac
    if [[ "$pkg" == cmd:* ]]; then
      read -r cmd pkgs <<<"${pkg#cmd:}"
      command -v "$cmd" >/dev/null 2>&1 || missing+=($pkgs)
      continue
    fi
    # a package counts as present only when dpkg says it is fully installed
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done < "deps/$list.txt"
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "deps: missing Debian packages; run as root:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
