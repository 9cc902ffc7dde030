#!/usr/bin/env bash
# The last step of each platform's release build (.github/workflows/release.yml; issue 14, DSK-1):
#
#   release-files.sh DIR PLATFORM ARCH UPDATE_GLOB
#
# DIR holds that platform's finished installers. The one file matching UPDATE_GLOB is the update
# file the app installs itself from: it gets its updater (minisign) signature, FILE.sig, from
# `tauri signer sign` unless the bundler already made one; then DIR/release-add.txt names it for
# the publish job's `inbox-server release add`, and DIR/SHA256SUMS lists every file. Runs after
# any Authenticode signing, so the signature covers the bytes users download. Reads VERSION and
# TAURI_SIGNING_PRIVATE_KEY (with TAURI_SIGNING_PRIVATE_KEY_PASSWORD) from the environment.
set -euo pipefail

if [ $# -ne 4 ]; then
  echo "usage: release-files.sh DIR PLATFORM ARCH UPDATE_GLOB" >&2
  exit 2
fi
dir=$1 platform=$2 arch=$3 pattern=$4
: "${VERSION:?VERSION is not set}"

shopt -s nullglob
# shellcheck disable=SC2206 # the pattern is a glob on purpose
updates=("$dir"/$pattern)
if [ ${#updates[@]} -ne 1 ]; then
  echo "::error::expected one update file $pattern in $dir, found ${#updates[@]}"
  ls -l "$dir"
  exit 1
fi
update=${updates[0]}
if [ ! -f "$update.sig" ]; then
  tauri signer sign --app-version "$VERSION" "$update"
fi

printf '%s %s %s\n' "$platform" "$arch" "$(basename "$update")" > "$dir/release-add.txt"
if command -v sha256sum >/dev/null; then sum=(sha256sum); else sum=(shasum -a 256); fi
sums=$(mktemp)
(cd "$dir" && for f in *; do [ "$f" = release-add.txt ] || [ "$f" = SHA256SUMS ] || "${sum[@]}" "$f"; done) > "$sums"
chmod 644 "$sums"
mv "$sums" "$dir/SHA256SUMS"
ls -l "$dir"
