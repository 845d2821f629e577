#!/bin/bash
# The dead man's switch through bk-run against a real PostgreSQL: a good run
# requests URL/start then URL, a failed run URL/start then URL/fail, and an
# unreachable ping server never fails the backup.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'BACKUP_PING_URL pings from bk-run'

test_need_programs bk-run bk-export bk-pack bk-verify bk-prune
test -x /usr/bin/python3 || test_skip_all "no /usr/bin/python3 for the HTTP server"
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
mkdir -p "$BACKUP_CONFIG_DIR"

: >"$TRASH/requests"
read -r port pid < <(/usr/bin/python3 "$TEST_DIRECTORY/t0520-httpd.py" "$TRASH/requests")
test -n "$pid" || test_skip_all "cannot start the HTTP server"
test_atexit "kill $pid"
CHECK=0b8f6a4e-tok3n

test_expect_success 'a good run: /start, then the success URL' '
	: >"$TRASH/requests" &&
	BACKUP_PING_URL=http://127.0.0.1:$port/$CHECK bk-run --no-mail >path 2>err &&
	printf "GET /%s/start\nGET /%s\n" "$CHECK" "$CHECK" >expect &&
	test_cmp expect "$TRASH/requests"
'

test_expect_success 'a failed run: /start, then /fail' '
	: >"$TRASH/requests" &&
	BACKUP_PING_URL=http://127.0.0.1:$port/$CHECK POSTGRES_PASSWORD=wrong \
		test_expect_code 1 bk-run --no-mail >out 2>err &&
	printf "GET /%s/start\nGET /%s/fail\n" "$CHECK" "$CHECK" >expect &&
	test_cmp expect "$TRASH/requests"
'

test_expect_success 'no BACKUP_PING_URL: no request' '
	: >"$TRASH/requests" &&
	bk-run --no-mail >path 2>err &&
	test ! -s "$TRASH/requests"
'

test_expect_success 'an unreachable ping server: warnings, the backup still succeeds' '
	dead=$(test_free_port) &&
	BACKUP_PING_URL=http://127.0.0.1:$dead/$CHECK bk-run --no-mail >path 2>err &&
	test -f "$(cat path)" &&
	grep -q "WARN bk-run\[[0-9]*\]: ping start to 127.0.0.1:$dead failed" err &&
	grep -q "WARN bk-run\[[0-9]*\]: ping success to 127.0.0.1:$dead failed" err &&
	! grep -q "tok3n" err "$BACKUP_LOG"
'

test_done
