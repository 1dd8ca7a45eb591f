#!/bin/sh
# PostgreSQL's first start in deploy/compose.yaml (/docker-entrypoint-initdb.d): one database per service,
# each owned by a role of its own that can reach no other service's database.
# The passwords come from the operator's env file (deploy/compose.env: OHS_DB_PASSWORD_<SERVICE>).
set -eu
for service in console assessment registry sampling penalty monitoring notification; do
  var="OHS_DB_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')"
  password="$(printenv "$var" || true)"
  if [ -z "$password" ]; then
    echo "init-databases: $var is not set (deploy/compose.env)" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v role="ohs_$service" -v db="ohs_$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
done
