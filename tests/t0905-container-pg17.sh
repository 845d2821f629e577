#!/bin/bash
# The image against a PostgreSQL 17 server (Debian 13's postgresql-17 in a
# trixie container on the host network): the start-up report names it, the
# image's pg_dump 17 backs it up, and bk-unpack in the container restores the
# archive into a new database on it, table for table the same.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'backup and restore of a PostgreSQL 17 server by the image'

. "$TEST_DIRECTORY/lib-container.sh"
[ -x "$PG_BINDIR/psql" ] || test_skip_all "no psql ($PG_BINDIR; tools/install-deps)"
container_setup
image_ready
pg17_start

NAME=bk-t0905-$$
test_atexit 'podman rm --ignore -f -t 0 $NAME >/dev/null 2>&1 || :'
uid=$(podman_ run --rm --entrypoint id "$IMAGE" -u) || test_skip_all "cannot run the image"

psql17() {
	PGPASSWORD=$PG17_PASSWORD "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
		-p "$PG17_PORT" -U postgres "$@"
}

test_expect_success 'the PostgreSQL 17 server holds the fixture' '
	psql17 -d postgres -At -c "SHOW server_version" >version &&
	grep -q "^17\." version &&
	psql17 -d postgres -c "CREATE DATABASE smart_ai_hub" &&
	psql17 -d smart_ai_hub -f "$FIXTURES/schema.sql" >/dev/null &&
	psql17 -d smart_ai_hub -f "$FIXTURES/data.sql" >/dev/null
'

mkdir -p backups secrets
printf '%s\n' "$PG17_PASSWORD" >secrets/postgres_password
chown -R "$uid:$uid" backups secrets
chmod 0700 backups
chmod 0400 secrets/postgres_password

test_expect_success 'the container starts: its start-up line names PostgreSQL 17' '
	podman_ run -d --name "$NAME" --network=host -v "$TRASH/backups:/backups" \
		-v "$TRASH/secrets/postgres_password:/run/secrets/postgres_password:ro" \
		-e POSTGRES_HOST=127.0.0.1 -e POSTGRES_PORT="$PG17_PORT" \
		-e POSTGRES_DB=smart_ai_hub -e POSTGRES_USER=postgres \
		-e POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password \
		-e BACKUP_MAIL_OUTBOX=/backups/outbox -e ADMIN_EMAILS=admin@example.com \
		-e BACKUP_MIN_SIZE_MB=0 "$IMAGE" >/dev/null &&
	wait_log "$NAME" "next backup at " &&
	podman logs "$NAME" >log 2>&1 &&
	grep -q "INFO bk-cron\[1\]: start-up: PostgreSQL $(cat version) at 127.0.0.1:$PG17_PORT/smart_ai_hub, role postgres (superuser, can write), pg_dump 17\.[0-9]*; " log
'

test_expect_success 'bk-run in the container backs it up; bk-verify passes' '
	podman exec "$NAME" bk-run >path &&
	grep -qx "/backups/critical_backup_[0-9_]*\.tar\.gz" path &&
	podman exec "$NAME" bk-verify "$(cat path)" >/dev/null &&
	tar -xzOf "backups/$(basename "$(cat path)")" MANIFEST >manifest &&
	grep -q "^# server_version: 17\." manifest
'

test_expect_success 'bk-unpack in the container restores it into a new database on 17' '
	psql17 -d postgres -c "CREATE DATABASE restored TEMPLATE template0" &&
	podman exec -e POSTGRES_DB=restored "$NAME" bk-unpack --unsigned --restore "$(cat path)" \
		>out 2>err || { cat err; exit 1; }
'

test_expect_success 'every table: the rows MANIFEST counts; full tables the same as the source' '
	sed -n "s/^# table: \([^ ]*\) \([0-9]*\) \(.*\)$/\1 \2 \3/p" manifest >tables &&
	sed -n "s/^# window: \([^ ]*\) .*/\1/p" manifest >windowed &&
	test $(wc -l <tables) -gt 5 && test -s windowed &&
	while read -r file rows t; do
		psql17 -d restored -At -c "SELECT count(*) FROM $t" >n &&
		echo "$rows" >expect && test_cmp expect n || { echo "table $t"; exit 1; }
		grep -qx "$file" windowed && continue
		psql17 -d smart_ai_hub -At -c "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >a &&
		psql17 -d restored -At -c "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >b &&
		test_cmp a b || { echo "table $t differs"; exit 1; }
	done <tables
'

test_done
