#!/bin/bash
# The container entrypoint with S3 configured: its start-up report lists the
# prefix of a real store (radosgw) and says "ok"; a wrong secret is logged
# with the store's answer and alerted, and the entrypoint keeps running; the
# jobs' env file carries the S3 keys (a job without them would exit 2).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'the entrypoint checks the S3 store at start'

test_need_programs bk-run bk-monitor bk-mail
s3_start
pg_start && pg_load_fixture || exit 1
PATH=$PG_BINDIR:$PATH
s3_mkbucket bk-backups || exit 1
s3_env bk-backups host1/
export BACKUP_RUN_DIR=$TRASH/run ADMIN_EMAILS=admin@example.com SMTP_FROM=bk@example.com
export BACKUP_SCHEDULE='0 2 * * *' BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"

# entrypoint NAME [VAR=VALUE...]: run it until it says when the next backup
# runs (or exits), then stop it; NAME.err holds what it logged.
entrypoint() {
	local name=$1
	shift
	rm -rf "$BACKUP_RUN_DIR"
	env "$@" bk-run --entrypoint >"$name.out" 2>"$name.err" &
	echo $! >"$name.pid"
	started() { grep -q "next backup at " "$name.err" || ! kill -0 "$(cat "$name.pid")"; }
	local i=0
	until started 2>/dev/null; do
		i=$((i + 1)) && test $i -le 600 || return 1
		sleep 0.1
	done
	kill "$(cat "$name.pid")" 2>/dev/null
	wait "$(cat "$name.pid")" 2>/dev/null
	return 0
}
test_atexit 'for f in "$TRASH"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; :'

test_expect_success 'the store answers: the start-up line says S3 ok, no alert' '
	entrypoint good &&
	grep "start-up: " good.err >line &&
	grep -q "; S3 s3://bk-backups/host1/ ok$" line &&
	! grep -q "ERROR" good.err &&
	test -z "$(ls "$BACKUP_MAIL_OUTBOX")"
'

test_expect_success 'the jobs env file carries the S3 keys for bk-run' '
	entrypoint env-check &&
	grep -q "^AWS_ACCESS_KEY_ID=" "$BACKUP_RUN_DIR/env" &&
	grep -q "^AWS_SECRET_ACCESS_KEY" "$BACKUP_RUN_DIR/env"
'

test_expect_success 'a wrong secret: the store'"'"'s answer logged and alerted, the entrypoint keeps running' '
	entrypoint bad AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 &&
	grep -q "start-up: .*; S3 s3://bk-backups/host1/ FAILED" bad.err &&
	grep -q "ERROR .*start-up: S3: .*403 SignatureDoesNotMatch: check AWS_SECRET_ACCESS_KEY" bad.err &&
	grep -q "next backup at " bad.err &&
	ls "$BACKUP_MAIL_OUTBOX" | grep -q alert &&
	! grep -rq wrong-secret-0123456789 bad.err "$BACKUP_MAIL_OUTBOX"
'

test_done
