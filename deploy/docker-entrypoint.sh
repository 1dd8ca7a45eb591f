#!/bin/sh
# The image's entrypoint (deploy/Dockerfile): the first argument chooses what the container runs.
#   console | assessment | registry | sampling | penalty | monitoring | notification   a service: python -m services.<name>
#   topics                                    python -m shared.kafka_admin create-topics (KAFKA_REPLICATION_FACTOR …)
#   migrate all|<service>                     python -m shared.migrations upgrade … (DATABASE_URL_<SERVICE>)
#   ohs …                                     the operators' CLI
#   anything else                             run as given (e.g. python -m shared.auth secret)
set -eu
what="${1:-console}"
[ "$#" -gt 0 ] && shift
case "$what" in
  console|assessment|registry|sampling|penalty|monitoring|notification)
    exec python -m "services.$what" "$@" ;;
  topics)
    exec python -m shared.kafka_admin create-topics "$@" ;;
  migrate)
    exec python -m shared.migrations upgrade "${1:-all}" ;;
  *)
    exec "$what" "$@" ;;
esac
