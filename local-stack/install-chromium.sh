#!/usr/bin/env bash
# Installs Debian's chromium package for the Web UI test (playwright-core drives it); a silent no-op when present.
set -euo pipefail

chromium=/usr/bin/chromium

fail() {
  echo "install-chromium: $*" >&2
  exit 1
}

if [[ -x "$chromium" ]]; then
  exit 0
fi

command -v apt-get >/dev/null || fail "apt-get not found; install Chromium at $chromium by other means"

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || fail "not root and sudo is missing; run this script as root"
  sudo=(sudo --non-interactive)
fi

export DEBIAN_FRONTEND=noninteractive
apt_get() {
  "${sudo[@]}" apt-get -y -q -o Dpkg::Use-Pty=0 "$@"
}

# Has apt a version of chromium to install? False on a fresh image whose package lists are empty.
has_candidate() {
  local candidate
  candidate="$(apt-cache policy chromium 2>/dev/null | awk '/Candidate:/ { print $2 }')"
  [[ -n "$candidate" && "$candidate" != "(none)" ]]
}

updated=false
if ! has_candidate; then
  echo "install-chromium: apt-get update (no chromium in the package lists)"
  apt_get update || fail "apt-get update failed (are Debian's mirrors reachable?)"
  updated=true
  has_candidate || fail "no 'chromium' package in the apt sources even after apt-get update"
fi

echo "install-chromium: apt-get install chromium"
if ! apt_get install --no-install-recommends chromium; then
  # Stale package lists name .debs the mirror no longer has: refresh once and retry.
  [[ $updated == false ]] || fail "apt-get install chromium failed"
  echo "install-chromium: install failed; retrying after apt-get update"
  apt_get update || fail "apt-get update failed (are Debian's mirrors reachable?)"
  apt_get install --no-install-recommends chromium || fail "apt-get install chromium failed after apt-get update"
fi

[[ -x "$chromium" ]] || fail "the chromium package is installed but $chromium is missing"
echo "install-chromium: ready: $("$chromium" --version 2>/dev/null || echo "$chromium")"
