#!/usr/bin/env bash
# Installs the .deb scripts/package built, uses it as a person would, and
# removes it, checking that nothing is left in /usr:
#   1. `apt-get install ./countersign_*.deb` (apt resolves the Depends; what
#      it pulls in is removed again at the end);
#   2. the installed `countersign --version` names this checkout's commit,
#      and `countersign demo load` fills a scratch database;
#   3. `man countersign`, `man countersign-import` and `man countersign-desktop` open, and completion
#      works in bash (`countersign cam<TAB>`), fish and zsh as each shell
#      finds the installed files by itself;
#   4. the desktop entry validates, and the installed app, started under
#      Xvfb through WebDriver, shows the demo inventory on its default
#      database (tests/e2e/tests/installed.rs; screenshot
#      target/e2e/installed-app.png);
#   5. `apt-get purge` leaves /usr and /opt as they were.
# Needs root (or password-less sudo); scripts/test runs it under Xvfb with a
# session bus and an unlocked keyring, as its e2e step.
#   tests/package/installed.sh [DEB]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'ok: %s\n' "$*"; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || fail "installing a package needs root: run scripts/test as root (CI does) or with password-less sudo"
  SUDO=(sudo -n)
fi

deb="${1:-$(ls "$ROOT"/target/package/*.deb 2>/dev/null | head -n 1)}"
[ -f "$deb" ] || fail "no .deb in target/package: run scripts/package first"
name="$(dpkg-deb -f "$deb" Package)"
version="$(dpkg-deb -f "$deb" Version)"
if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed'; then
  fail "$name is installed already: remove it first (apt-get purge $name), the test starts from a machine without it"
fi

work="$(mktemp -d)"
snapshot() { find /usr /opt -xdev 2>/dev/null | LC_ALL=C sort >"$1"; }
# Installed packages only: dpkg also lists removed-but-not-purged ones.
packages() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | LC_ALL=C sort >"$1"; }
snapshot "$work/usr.before"
packages "$work/packages.before"

installed=0 pulled=""
cleanup() {
  if [ "$installed" -eq 1 ]; then
    # shellcheck disable=SC2086
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$name" $pulled >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. Install, as a user does: apt resolves what the package depends on (on
# the CI machine scripts/test has installed most of it already, so this
# shows the Depends are satisfiable there, not what a bare system pulls).
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log" >&2; fail "apt-get install $deb"; }
installed=1
packages "$work/packages.after"
pulled="$(LC_ALL=C comm -13 "$work/packages.before" "$work/packages.after" | grep -vx "$name" || true)"
ok "installed $name $version${pulled:+ (apt added: $(echo $pulled))}"

# 2. The CLI on the PATH.
[ "$(command -v countersign)" = /usr/bin/countersign ] || fail "countersign on the PATH is $(command -v countersign), not /usr/bin/countersign"
said="$(countersign --version)"
commit="$(git rev-parse --short=12 HEAD)"
[[ "$said" =~ ^countersign\ $version\ \($commit(-modified)?\ [0-9]{4}-[0-9]{2}-[0-9]{2}\)$ ]] \
  || fail "countersign --version said '$said', expected 'countersign $version ($commit <date>)'"
ok "countersign --version: $said"
# The app answers too, with no window (and no display needed).
desktop_said="$(env -u DISPLAY -u WAYLAND_DISPLAY countersign-desktop --version)"
[ "$desktop_said" = "countersign-desktop ${said#countersign }" ] \
  || fail "countersign-desktop --version said '$desktop_said', expected the CLI's version and commit"
ok "countersign-desktop --version: $desktop_said"
loaded="$(countersign --db "$work/scratch.db" demo load)"
[[ "$loaded" == *"41 identities, 25 services"* ]] || fail "demo load said: $loaded"
listed="$(countersign --db "$work/scratch.db" identities list --json | grep -c '"id"' || true)"
[ "$listed" -ge 41 ] || fail "identities list after demo load: $listed ids"
ok "countersign demo load on a scratch database: $loaded"
notices=/usr/share/doc/countersign/third-party-licenses.txt.gz
# Counted, not `grep -q`: an early exit would cut zcat off mid-file, and
# pipefail would report its SIGPIPE as the check failing.
[ "$(zcat "$notices" | grep -c "^  tauri ")" -ge 1 ] || fail "$notices does not name tauri"
ok "third-party licence notices in $notices"

# 3. Man pages and completions, found where each tool looks by itself.
[ "$(man -w countersign)" = /usr/share/man/man1/countersign.1.gz ] || fail "man -w countersign: $(man -w countersign 2>&1)"
# grep -c reads the whole page: grep -q would stop at the first match and
# cut man off, which pipefail reports as a failure.
MANWIDTH=100 man countersign 2>/dev/null | grep -c "Ownership, blast radius and second approval" >/dev/null || fail "man countersign shows no description"
MANWIDTH=100 man countersign-import 2>/dev/null | grep -c "countersign-import" >/dev/null || fail "man countersign-import"
MANWIDTH=100 man countersign-desktop 2>/dev/null | grep -c "COUNTERSIGN_BACKEND" >/dev/null || fail "man countersign-desktop names no COUNTERSIGN_BACKEND"
ok "man countersign, man countersign-import, man countersign-desktop"
# bash: bash-completion's loader finds the script on first use of the
# command, as in an interactive shell; then `countersign cam<TAB>` and
# `countersign campaign st<TAB>` are asked for.
bash_words() {
  bash --norc --noprofile -c '
    source /usr/share/bash-completion/bash_completion
    __load_completion countersign || exit 3
    fn="$(complete -p countersign | sed -E "s/.* -F ([^ ]+) .*/\1/")"
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    "$fn" countersign "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' bash "$@"
}
got="$(bash_words countersign cam)"
[ "$got" = campaign ] || fail "bash: countersign cam<TAB> gave '$got'"
got="$(bash_words countersign campaign st | sort | tr '\n' ' ')"
[ "$got" = "start status " ] || fail "bash: countersign campaign st<TAB> gave '$got'"
ok "bash completes countersign cam<TAB> to campaign, campaign st<TAB> to start status"
# A new user's fish (--no-config would also drop the vendor directories
# from $fish_complete_path).
mkdir -p "$work/home"
got="$(HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" fish -c 'complete -C "countersign cam"' | cut -f1)"
[ "$got" = campaign ] || fail "fish: countersign cam<TAB> gave '$got'"
ok "fish completes countersign cam<TAB> to campaign"
# -D: no dump file. (A dump "to /dev/null" is a file written and moved
# there, which as root replaces the device with a regular file.)
got="$(HOME="$work/home" zsh -f -c 'autoload -Uz compinit && compinit -u -D && print -r -- ${_comps[countersign]}')"
[ -c /dev/null ] || fail "/dev/null is no longer a device"
[ "$got" = _countersign ] || fail "zsh: compinit did not find _countersign on its fpath (got '$got')"
ok "zsh's compinit finds _countersign"

# 4. The desktop app.
desktop-file-validate /usr/share/applications/Countersign.desktop || fail "the desktop entry is not valid"
grep -qx 'Exec=countersign-desktop' /usr/share/applications/Countersign.desktop || fail "the desktop entry does not start countersign-desktop"
ok "the desktop entry validates"
COUNTERSIGN_DESKTOP_BIN=/usr/bin/countersign-desktop COUNTERSIGN_BIN=/usr/bin/countersign \
  cargo test --quiet -p countersign-e2e --test installed -- --ignored --test-threads=1

# 5. Remove it, and what apt added for it; nothing may stay behind.
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$name" $pulled >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log" >&2; fail "apt-get purge $name"; }
installed=0
! dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q installed || fail "$name is still installed"
snapshot "$work/usr.after"
left="$(LC_ALL=C comm -13 "$work/usr.before" "$work/usr.after")"
[ -z "$left" ] || fail "left in /usr or /opt after apt-get purge: $left"
gone="$(LC_ALL=C comm -23 "$work/usr.before" "$work/usr.after")"
[ -z "$gone" ] || fail "missing from /usr or /opt after install and purge: $gone"
ok "apt-get purge $name${pulled:+ $(echo $pulled)}: /usr and /opt as before"
