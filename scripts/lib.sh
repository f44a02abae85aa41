# Shared by scripts/app and scripts/test: installs what a fresh Debian 12
# machine lacks. As root it installs; otherwise it prints the exact command
# and stops, so nothing is half-set-up silently.

# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAURI_DRIVER_VERSION="2.1.0"
# Writes the Rust half of the packages' SBOM (scripts/package).
CARGO_CYCLONEDX_VERSION="0.5.9"
# Gathers the Rust crates' licence texts for the packages (scripts/package).
CARGO_ABOUT_VERSION="0.9.3"

# Libraries the desktop app links against (Tauri 2 on Linux), and the XDG
# desktop portal its file dialogs run in (out of the app's process, see
# docs/sqlite-locks.md).
APP_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev libxdo-dev
  libayatana-appindicator3-dev librsvg2-dev libssl-dev
  xdg-desktop-portal xdg-desktop-portal-gtk)
# What the tests add: a virtual display, the WebKit WebDriver, a private
# D-Bus session with the Secret Service, screenshots, typing into the
# portal's dialogs (xdotool), PostgreSQL, the sqlite3 shell (another
# program on the app's database), kill(1) (procps: the crash test
# stops and resumes the backend), openssl (the broker's HTTPS test makes
# a CA and a certificate) and systemd-analyze (systemd: the broker's unit
# file is verified); and for the packages' tests (tests/package.rs and
# tests/package/installed.sh): rpm to read the .rpm, lintian (Debian's own
# package checker), and man, the shells and desktop-file-validate to use the
# installed .deb as a person would.
TEST_PACKAGES=(xvfb xauth x11-utils webkit2gtk-driver dbus dbus-x11 gnome-keyring
  imagemagick xdotool postgresql postgresql-client sqlite3 python3 python3-venv procps
  openssl systemd rpm man-db bash-completion fish zsh desktop-file-utils lintian)
# What the benchmarks (bench/) add: GNU time for peak RSS.
BENCH_PACKAGES=(time python3)
# Independent verifiers for signed decisions (tests/interop.rs).
PYTHON_TEST_PACKAGES=(joserfc==1.8.0 rfc8785==0.1.4 jsonschema==4.26.0 pyyaml==6.0.3 "cyclonedx-python-lib[json-validation]==11.12.0" bhopengraph==1.3.1)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf '\033[1mwarning:\033[0m %s\n' "$*" >&2; }

# Seconds from a `date +%s.%N` taken earlier (T0) to now or to T1, with
# millisecond precision (awk is in every Debian install; bc is not).
elapsed() {
  awk -v a="$1" -v b="${2:-$(date +%s.%N)}" 'BEGIN { printf "%.3f", b - a }'
}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' "$p"
  done
}

ensure_apt_packages() {
  command -v dpkg-query >/dev/null || die "this script supports Debian and its derivatives (no dpkg-query found)"
  local missing
  missing="$(missing_packages "$@")"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $missing" >&2
    exit 1
  fi
  say "installing system packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
}

ensure_toolchains() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then rerun"
  command -v node >/dev/null || die "node not found: install Node.js 20.19 or newer, then rerun"
  local major minor
  IFS=. read -r major minor _ <<<"$(node --version | tr -d v)"
  if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
    die "Node.js $(node --version) is too old for Vite 7: install 20.19 or newer"
  fi
}

ensure_npm_packages() {
  cd "$ROOT"
  # Installs the versions pinned in package-lock.json without rewriting it.
  # Not `npm ci`: it insists on lock entries for every platform's optional
  # rollup binary, and a registry that lacks some of them makes it fail.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing front-end packages (npm install from package-lock.json)"
    npm install --no-save --no-audit --no-fund --loglevel=error
  fi
}

ensure_tauri_driver() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
  if [ ! -x "$bin" ] || ! "$bin" --help >/dev/null 2>&1; then
    say "installing tauri-driver $TAURI_DRIVER_VERSION"
    cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --quiet
  fi
  export TAURI_DRIVER="$bin"
}

ensure_cargo_cyclonedx() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/cargo-cyclonedx"
  if [ ! -x "$bin" ] || ! "$bin" cyclonedx --version 2>/dev/null | grep -qF " $CARGO_CYCLONEDX_VERSION"; then
    say "installing cargo-cyclonedx $CARGO_CYCLONEDX_VERSION"
    # --debug: it runs once per package build, and an optimised build of
    # it took three minutes of a cold CI run on two cores.
    cargo install cargo-cyclonedx --version "$CARGO_CYCLONEDX_VERSION" --locked --quiet --debug
  fi
}

ensure_cargo_about() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/cargo-about"
  if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -qxF "cargo-about $CARGO_ABOUT_VERSION"; then
    say "installing cargo-about $CARGO_ABOUT_VERSION"
    # Optimised, but without the crate's own LTO: unoptimised, its licence
    # matching over every file of ~500 crates took over ten minutes on two
    # cores; this build installs in about two and matches in under two.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=2 \
      cargo install cargo-about --version "$CARGO_ABOUT_VERSION" --features cli --locked --quiet
  fi
}

# A Python virtual environment with the independent JOSE and RFC 8785
# implementations the interoperability tests check signatures with, and
# the ecosystem's validators the exports are checked with (the official
# CycloneDX schemas as cyclonedx-python-lib bundles them; bhopengraph).
ensure_python_env() {
  local venv="$ROOT/target/pyenv"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import joserfc, rfc8785, jsonschema, yaml, cyclonedx.validation.json, bhopengraph' 2>/dev/null; then
    say "creating the Python test environment (${PYTHON_TEST_PACKAGES[*]})"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${PYTHON_TEST_PACKAGES[@]}"
  fi
  export COUNTERSIGN_PYTHON="$venv/bin/python"
}

build_ui() {
  say "building the front end"
  (cd "$ROOT" && npm run --silent build:ui -- --logLevel warn)
}

# A throwaway PostgreSQL server on a free loopback port, in a temporary
# directory, for the team-mode half of the store tests. Sets
# COUNTERSIGN_TEST_POSTGRES to its admin URL; stop_postgres removes it.
# initdb refuses to run as root, so as root the server runs as `postgres`.
start_postgres() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$bin" ]; then
    echo "PostgreSQL is not installed: apt-get install -y postgresql" >&2
    return 1
  fi
  PG_DIR="$(mktemp -d)"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log"
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  PG_BIN="$bin" PG_AS="${as[*]}"
  export COUNTERSIGN_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (in $PG_DIR)"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    # shellcheck disable=SC2086
    $PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

# The benchmarks' generated inventory of $1 services, ten identities each
# (`countersign generate inventory --all-identities`: 25,000 services give
# 250,000 identities), written as a directory of parts (one file may be at
# most 64 MB: services first, then identities 100,000 at a time), imported
# once into a SQLite file under $2 with the CLI $3 and reused after: prints
# the database's path. `.imported` marks a database whose import finished,
# with its time and peak RSS in it.
generated_db() {
  local services="$1" work="$2" cs="$3"
  mkdir -p "$work"
  local parts="$work/inv-$services.parts" db="$work/inv-$services.db"
  [ -d "$parts" ] || "$cs" generate inventory --services "$services" --all-identities --out "$parts/" 2>/dev/null
  if [ ! -e "$db.imported" ]; then
    rm -f "$db" "$db-wal" "$db-shm"
    local t0
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$db.rss" "$cs" --db "$db" --actor bench import "$parts" >/dev/null
    echo "imported $parts into SQLite in $(elapsed "$t0") s, peak RSS $(($(cat "$db.rss") / 1024)) MB" | tee "$db.imported" >&2
  fi
  echo "$db"
}
