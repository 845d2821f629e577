#!/bin/bash
# The compose example as an administrator deploys it next to the Smart AI Hub
# stack: the stack's own .env.production with a Prisma DATABASE_URL
# (?schema=public), root-owned 0600 configuration files (refused at start,
# the fix named), secrets files, hostname; then the start-up report, a
# backup against the host's PostgreSQL 15 and the restore commands of
# docs/BACKUP_RESTORE.md part 5 run as written inside the container.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'the compose deployment with a Prisma .env.production, PostgreSQL 15'

. "$TEST_DIRECTORY/lib-container.sh"
/usr/bin/python3 -c "import yaml" 2>/dev/null || test_skip_all "python3-yaml is not installed"
command -v minisign >/dev/null || test_skip_all "minisign is not installed (tools/install-deps)"
container_setup
image_ready

NAME=bk-t0904-$$
test_atexit 'podman rm --ignore -f -t 0 $NAME >/dev/null 2>&1 || :'
uid=$(podman_ run --rm --entrypoint id "$IMAGE" -u) || test_skip_all "cannot run the image"

pg_start && pg_load_fixture || exit 1
hostname=$(/usr/bin/python3 -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["services"]["backup"]["hostname"])' "$COMPOSE") || exit 1

# The project directory as the stack has it: .env.production with the
# application's DATABASE_URL (here pointing at the test server), the other
# files, and the secrets of set-up step 2.
mkdir -p project/ssl project/secrets volumes/backups
cat >project/.env.production <<EOF
NODE_ENV=production
DATABASE_URL=postgresql://$POSTGRES_USER:$POSTGRES_PASSWORD@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB?schema=public
POSTGRES_DB=$POSTGRES_DB
POSTGRES_USER=$POSTGRES_USER
POSTGRES_PASSWORD=$POSTGRES_PASSWORD
ADMIN_EMAILS=alice@example.com
SMTP_HOST=smtp.example.com
SMTP_USER=backup@example.com
SMTP_PASS=not-this-one
SMTP_FROM=backup@example.com
EOF
echo "services: {}" >project/docker-compose.prod.yml
echo "events {}" >project/nginx.prod.conf
echo CERT >project/ssl/cert.pem
echo KEY >project/ssl/key.pem
printf '%s\n' "$POSTGRES_PASSWORD" >project/secrets/postgres_password
echo smtp-secret-$$ >project/secrets/smtp_pass
test_random_hex 64 >project/secrets/backup_link_secret
minisign -G -W -p project/secrets/bk.pub -s project/secrets/bk.key >/dev/null || exit 1
chown -R "$uid:$uid" project volumes
chmod 0400 project/secrets/*
chmod 0700 volumes/backups
# As on the host: root's, 0600.
chown 0:0 project/.env.production project/ssl/key.pem
chmod 0600 project/.env.production project/ssl/key.pem

run_compose() {
	local args
	podman rm -f -t 0 "$NAME" >/dev/null 2>&1
	mapfile -d "" -t args < <(compose_args POSTGRES_HOST=127.0.0.1 \
		POSTGRES_PORT="$POSTGRES_PORT" BACKUP_MAIL_OUTBOX=/backups/outbox \
		BACKUP_SIGNING_KEY_FILE=/run/secrets/bk.key BACKUP_VERIFY_KEY_FILE=/run/secrets/bk.pub) &&
	test ${#args[@]} -gt 20 &&
	timeout 120 podman run "$@" --name "$NAME" --network=host "${args[@]}" \
		-v "$TRASH/project/secrets/bk.key:/run/secrets/bk.key:ro" \
		-v "$TRASH/project/secrets/bk.pub:/run/secrets/bk.pub:ro" "$IMAGE"
}

test_expect_success 'root-owned 0600 config files: exit 2, each named, with the fix' '
	rc=0 && run_compose >out 2>&1 || rc=$? &&
	test $rc = 2 &&
	grep -q "ERROR bk-cron\[1\]: configuration: BACKUP_CONFIG_FILES: 2 configuration files cannot be read by uid $uid, so the backups would lack them: /config/.env.production (0600, owner uid 0), /config/ssl/key.pem (0600, owner uid 0)$" out &&
	grep -q "hint: on the host, in the project directory: chown $uid .env.production ssl/key.pem (the mode may stay 0600); or bind a copy read-only" out
'

test_expect_success 'after chown 34: it starts, the start-up line shows the server and role' '
	chown "$uid" project/.env.production project/ssl/key.pem &&
	run_compose -d >/dev/null &&
	wait_log "$NAME" "next backup at " &&
	podman logs "$NAME" >log 2>&1 &&
	dump=$(podman exec "$NAME" pg_dump --version | sed "s/^pg_dump (PostgreSQL) \([0-9.]*\).*/\1/") &&
	server=$(pg_query "SHOW server_version") &&
	grep -qx "20[-0-9T:]*+07:00 INFO bk-cron\[1\]: start-up: PostgreSQL $server at 127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB, role $POSTGRES_USER (superuser, can write), pg_dump $dump; mail to the outbox /backups/outbox; S3 not configured" log &&
	! grep -q ERROR log
'

test_expect_success 'the Prisma URL is used (schema=public dropped for libpq), no password shown' '
	grep -q "schema" log &&
	! grep -qF "$POSTGRES_PASSWORD" log
'

test_expect_success 'a backup in the container: its mail names the compose hostname' '
	podman exec "$NAME" bk-run >path &&
	grep -qx "/backups/critical_backup_[0-9_]*\.tar\.gz" path &&
	ls volumes/backups/outbox/*.eml >mails &&
	grep -q "$hostname" "$(head -n 1 mails)" &&
	tar -tzf "volumes/backups/$(basename "$(cat path)")" >members &&
	grep -qx .env.production members && grep -qx ssl/key.pem members
'

# docs/BACKUP_RESTORE.md part 5, its "$ " lines, as written.
awk '/^#+ / { on = index($0, "In the container") > 0; next }
	on && /^    \$ / { sub(/^    \$ /, ""); print }' "$BK_ROOT/docs/BACKUP_RESTORE.md" >part4.sh

test_expect_success 'docs/BACKUP_RESTORE.md part 5 restores inside the container' '
	test $(wc -l <part4.sh) -ge 5 &&
	podman exec -i "$NAME" sh -e <part4.sh >out 2>err || { cat err; exit 1; } &&
	pg_dump_text "$POSTGRES_DB" >before &&
	pg_dump_text smart_ai_hub_new >after &&
	grep -c "^COPY " after >copies && test "$(cat copies)" -gt 5 &&
	for t in users organizations system_settings; do
		pg_psql -Atc "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >a.$t &&
		pg_psql -d smart_ai_hub_new -Atc "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >b.$t &&
		test_cmp a.$t b.$t || exit 1
	done
'

test_expect_success 'as the read-only role, the restore is refused with the hint' '
	pg_create_readonly_role backup ro-pw-$$ &&
	pg_psql -c "CREATE DATABASE ro_target" &&
	printf "%s\n" ro-pw-$$ >ro.pw && chown "$uid" ro.pw && chmod 0400 ro.pw &&
	podman cp ro.pw "$NAME:/tmp/ro.pw" &&
	rc=0 && podman exec "$NAME" env -u DATABASE_URL POSTGRES_USER=backup \
		POSTGRES_PASSWORD_FILE=/tmp/ro.pw POSTGRES_DB=ro_target \
		bk-unpack --restore "$(cat path)" >out 2>err || rc=$? &&
	cat err &&
	test $rc = 1 &&
	grep -q "permission denied" err &&
	grep -q "hint: restore as the database${SQ}s owner" err
'

test_done
