#!/usr/bin/env bash
# Lets the Tauri CLI (`tauri build`, `tauri bundle`, `tauri inspect`) run on this repository.
#
# Our tauri.conf.json sits at the repository root, as the product's layout asks, beside the
# workspace's virtual Cargo.toml; src-tauri/build.rs and main.rs name it as ../tauri.conf.json,
# so cargo builds never need this. The CLI, however, wants the configuration next to a Cargo.toml
# that has a [package]: run from the root it stops with "No package info in the config file"
# (tauri-cli 2.12.5, measured). This script copies the configuration next to
# src-tauri/Cargo.toml and mirrors the folders its relative paths name, so every path in it
# (frontendDist, icons, entitlements, Info.plist, ...) names the same file from either place.
# Run the CLI from src-tauri/ afterwards. Idempotent; run it again after changing any of them.
# `stage-tauri-cli.sh clean` removes the copies (the mirrored folders are ignored by git; the
# copied src-tauri/tauri.conf.json is deliberately not, so tauri-action's search still finds it).
#
# When tauri.conf.json starts naming a path under another top-level folder, add that folder to
# `mirrored` below; the check at the end fails for a path it cannot resolve.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app="$root/src-tauri"
mirrored=(ui/dist assets packaging)

if [ "${1:-}" = clean ]; then
  rm -f "$app/tauri.conf.json"
  for dir in "${mirrored[@]}"; do rm -rf "${app:?}/${dir%%/*}"; done
  exit 0
fi

if [ ! -f "$root/ui/dist/index.html" ]; then
  echo "stage-tauri-cli: ui/dist is not built; run \`cargo xtask ui\` first" >&2
  exit 1
fi

cp "$root/tauri.conf.json" "$app/tauri.conf.json"
for dir in "${mirrored[@]}"; do
  rm -rf "${app:?}/$dir"
  mkdir -p "$(dirname "$app/$dir")"
  cp -R "$root/$dir" "$app/$dir"
done

# Every relative path the bundler reads must resolve from src-tauri/ as it does from the root.
missing=0
for path in $(sed -n -E 's/.*"(frontendDist|entitlements|infoPlist|licenseFile|template|desktopTemplate|installerIcon|headerImage|sidebarImage|background)": *"([^"]+)".*/\2/p' "$root/tauri.conf.json") \
  $(sed -n '/"icon": *\[/,/\]/p' "$root/tauri.conf.json" | sed -n -E 's/^ *"([^"]+)",?$/\1/p'); do
  case "$path" in
    /* | *://*) continue ;;
  esac
  if [ ! -e "$app/$path" ]; then
    echo "stage-tauri-cli: tauri.conf.json names $path, which is not under a mirrored folder" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ]
echo "stage-tauri-cli: $app/tauri.conf.json ready (mirrored: ${mirrored[*]})"
