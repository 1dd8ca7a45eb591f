#!/usr/bin/env bash
# The browser of the console's browser tests: Debian's chromium.
#
#   deploy/browser/chromium.sh path    install chromium if missing (Debian, as root), print its executable
#
# The tests drive it with Playwright (the Python package, launched with this executable: Playwright's own
# browser download is not used, agency and CI networks may not reach it).
set -euo pipefail

log() { printf 'chromium: %s\n' "$*" >&2; }

find_browser() {
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

path() {
  local browser
  if ! browser="$(find_browser)"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "chromium not found; installing Debian's chromium package"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
    fi
    browser="$(find_browser)" || { log "no chromium: install Debian's chromium package"; exit 1; }
  fi
  echo "$browser"
}

case "${1:-}" in
  path) path ;;
  *) echo "usage: $0 path" >&2; exit 2 ;;
esac
