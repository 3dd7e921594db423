#!/bin/sh
# One-shot (temporalio/admin-tools): create Temporal's two PostgreSQL databases and bring their schemas up
# to the version this admin-tools image ships. Safe to re-run on every `docker compose up`: `create` ignores
# an existing database, `setup-schema -v 0.0` skips a database already past 0.0, and `update-schema`
# applies only the versions that are missing.
#
# Environment (the same variables the temporalio/server image reads): POSTGRES_SEEDS, DB_PORT,
# POSTGRES_USER, POSTGRES_PWD, and optionally DB (postgres12), DBNAME, VISIBILITY_DBNAME.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must be set}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${POSTGRES_PWD:?POSTGRES_PWD must be set}"
DB_PORT="${DB_PORT:-5432}"
PLUGIN="${DB:-postgres12}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

# temporal-sql-tool reads the password from SQL_PASSWORD, which keeps it off the command line.
SQL_PASSWORD="$POSTGRES_PWD"
export SQL_PASSWORD

sql_tool() {
    temporal-sql-tool --plugin "$PLUGIN" --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

attempt=0
until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 30 ]; then
        echo "PostgreSQL at $POSTGRES_SEEDS:$DB_PORT did not accept connections" >&2
        exit 1
    fi
    sleep 2
done

for target in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
    database="${target%%:*}"
    schema="${target#*:}"
    echo "schema: database $database ($schema)"
    sql_tool --db "$database" create
    sql_tool --db "$database" setup-schema -v 0.0
    sql_tool --db "$database" update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo "schema: up to date"
