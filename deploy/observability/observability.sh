#!/usr/bin/env bash
# Prometheus and Alertmanager for the platform: Debian's `prometheus` (brings promtool) and
# `prometheus-alertmanager` (brings amtool; Debian names the binary prometheus-alertmanager).
#
#   deploy/observability/observability.sh paths   install them if missing (Debian, as root), print
#                                                 name=executable lines: prometheus, promtool, alertmanager, amtool
#   deploy/observability/observability.sh run     Prometheus on 127.0.0.1:9090 and Alertmanager on 127.0.0.1:9095 in
#                                                 the foreground, with this folder's config, scraping `make run`'s
#                                                 services; data under .run/prometheus and .run/alertmanager (Ctrl-C stops)
#
# Grafana is not packaged by Debian: load dashboards/*.json into the agency's Grafana (docs/operations.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
log() { printf 'observability: %s\n' "$*" >&2; }

find_exe() {  # the first executable among the names given
  local name
  for name in "$@"; do
    for dir in /usr/bin /usr/local/bin /usr/sbin; do
      [ -x "$dir/$name" ] && { echo "$dir/$name"; return 0; }
    done
  done
  return 1
}

all_found() {
  find_exe prometheus >/dev/null && find_exe promtool >/dev/null && find_exe prometheus-alertmanager alertmanager >/dev/null \
    && find_exe amtool >/dev/null
}

paths() {
  if ! all_found; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "prometheus or alertmanager not found; installing Debian's prometheus and prometheus-alertmanager packages"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
      # (their own daemons, if the init system starts them, use Debian's config; the tests run theirs on other ports)
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >&2
    fi
    all_found || { log "missing: install Debian's prometheus and prometheus-alertmanager packages"; exit 1; }
  fi
  echo "prometheus=$(find_exe prometheus)"
  echo "promtool=$(find_exe promtool)"
  echo "alertmanager=$(find_exe prometheus-alertmanager alertmanager)"
  echo "amtool=$(find_exe amtool)"
}

run() {
  local exes prometheus alertmanager pids=()
  exes="$(paths)"
  prometheus="$(sed -n 's/^prometheus=//p' <<<"$exes")"
  alertmanager="$(sed -n 's/^alertmanager=//p' <<<"$exes")"
  mkdir -p "$repo/.run/prometheus" "$repo/.run/alertmanager"
  trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
  "$alertmanager" --config.file="$here/alertmanager.yml" --storage.path="$repo/.run/alertmanager" \
    --web.listen-address=127.0.0.1:9095 --cluster.listen-address= &
  pids+=($!)
  "$prometheus" --config.file="$here/prometheus.yml" --storage.tsdb.path="$repo/.run/prometheus" \
    --web.listen-address=127.0.0.1:9090 --web.enable-lifecycle &
  pids+=($!)
  log "Prometheus http://127.0.0.1:9090  Alertmanager http://127.0.0.1:9095  (Ctrl-C stops both)"
  wait -n
}

case "${1:-}" in
  paths) paths ;;
  run) run ;;
  *) echo "usage: $0 paths|run" >&2; exit 2 ;;
esac
