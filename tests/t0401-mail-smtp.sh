#!/bin/bash
# bk-mail against a real SMTP server (tests/smtpd.py, aiosmtpd) on loopback:
# STARTTLS with a certificate made here, AUTH required; implicit TLS; none on
# loopback. What arrives is parsed by python's email package. Failures:
# untrusted or mismatched certificate, wrong password, server down.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'bk-mail delivers over SMTP with TLS and AUTH'

smtp_check_deps
SMTP_TEST_USER=backup-sender@example.com
smtp_make_cert other "DNS:mail.example.invalid"
# Servers for single tests first; the main one last, its settings exported.
smtp_start --cert other
OTHER_DIR=$SMTP_TEST_DIR OTHER_PORT=$SMTP_TEST_PORT
smtp_start --tls tls
TLS_DIR=$SMTP_TEST_DIR TLS_PORT=$SMTP_TEST_PORT
smtp_start --tls none --no-auth
PLAIN_DIR=$SMTP_TEST_DIR PLAIN_PORT=$SMTP_TEST_PORT
smtp_start --tls none
PLAINAUTH_DIR=$SMTP_TEST_DIR PLAINAUTH_PORT=$SMTP_TEST_PORT
smtp_start
MAIN_DIR=$SMTP_TEST_DIR
MAIN_PORT=$SMTP_TEST_PORT

ARCHIVE=$BACKUP_DIR/critical_backup_20261125_020000.tar.gz
export ADMIN_EMAILS="admin1@example.com, admin2@example.org , ops@example.net"
export BK_MAIL_RETRY_DELAY_MS=20

errors() {
	sed -n 's/^[^ ]* ERROR bk-mail\[[0-9]*\]: //p' "$1"
}

# The "mail attempt" lines of a log as "attempt N start|accepted|failed".
attempts() {
	awk '/ bk-mail\[[0-9]+\]: mail attempt [0-9] of 3/ {
		sub(/.* mail attempt /, "")
		what = /^[0-9] of 3: accepted/ ? "accepted" : /^[0-9] of 3 failed/ ? "failed" : "start"
		print "attempt " substr($0, 1, 1) " " what
	}' "$1"
}

test_expect_success 'setup: an archive' '
	mkdir -p "$BACKUP_DIR" &&
	mail_make_archive "$ARCHIVE"
'

test_expect_success '--backup: accepted over STARTTLS with AUTH, Message-ID on stdout' '
	bk-mail --backup "$ARCHIVE" --duration 12 >id 2>err &&
	test "$(smtp_count "$MAIN_DIR")" = 1 &&
	mail_parse "$MAIN_DIR/msg-0001.eml" parsed &&
	test_cmp id parsed/message-id &&
	test "$(smtp_auth_attempts "$MAIN_DIR")" = 1 &&
	echo "PLAIN $SMTP_TEST_USER ok" >expect &&
	sed "s/^LOGIN /PLAIN /" "$MAIN_DIR/auth.log" >actual &&
	test_cmp expect actual
'

test_expect_success 'every admin is a recipient; sender defaults to SMTP_USER; TLS was on' '
	smtp_envelope "$MAIN_DIR/msg-0001.json" >actual &&
	cat >expect <<-EOF &&
	from $SMTP_TEST_USER
	to admin1@example.com
	to admin2@example.org
	to ops@example.net
	tls True
	authenticated True
	EOF
	test_cmp expect actual &&
	printf "%s\n" admin1@example.com admin2@example.org ops@example.net >expect &&
	test_cmp expect parsed/to
'

test_expect_success 'text and HTML parts, and the attachment decodes to the archive' '
	mail_parse "$MAIN_DIR/msg-0001.eml" parsed &&
	cat >expect <<-EOF &&
	multipart/mixed
	 multipart/alternative
	  text/plain
	  text/html
	 application/gzip attachment critical_backup_20261125_020000.tar.gz
	EOF
	test_cmp expect parsed/structure &&
	cmp "$ARCHIVE" parsed/attachments/critical_backup_20261125_020000.tar.gz &&
	grep -x "File               critical_backup_20261125_020000.tar.gz" parsed/text &&
	grep -x "Duration           12 s" parsed/text &&
	grep -F ">critical_backup_20261125_020000.tar.gz</td>" parsed/html
'

test_expect_success 'each attempt and its result are logged, never the password' '
	attempts "$BACKUP_LOG" >actual &&
	printf "%s\n" "attempt 1 start" "attempt 1 accepted" >expect &&
	test_cmp expect actual &&
	grep "INFO bk-mail\[[0-9]*\]: mail attempt 1 of 3: accepted in [0-9.]* s: 250 2.0.0 stored as msg-0001\$" "$BACKUP_LOG" &&
	! grep -F "$SMTP_TEST_PASS" "$BACKUP_LOG" err "$MAIN_DIR/msg-0001.eml"
'

test_expect_success 'SMTP_FROM is the envelope and header sender when set' '
	SMTP_FROM=backup@example.com bk-mail --test >id &&
	n=$(smtp_count "$MAIN_DIR") &&
	f=$(printf "%s/msg-%04d" "$MAIN_DIR" "$n") &&
	smtp_envelope "$f.json" | head -n 1 >actual &&
	echo "from backup@example.com" >expect &&
	test_cmp expect actual &&
	mail_parse "$f.eml" parsed &&
	grep "<backup@example.com>\$" parsed/from &&
	test_cmp id parsed/message-id
'

test_expect_success '--alert: reason and log tail arrive, secrets masked' '
	export POSTGRES_PASSWORD=pg-$(test_random_hex 16) &&
	echo "2026-11-25T02:00:01+00:00 ERROR bk-export[7]: leaked $POSTGRES_PASSWORD and $SMTP_TEST_PASS" >>"$BACKUP_LOG" &&
	bk-mail --alert "backup failed at step export: database connection failed" \
		--reason "cannot connect to postgres:5432 as backup: timeout" --cause failed:export >id &&
	n=$(smtp_count "$MAIN_DIR") &&
	f=$(printf "%s/msg-%04d" "$MAIN_DIR" "$n") &&
	mail_parse "$f.eml" parsed &&
	echo "[bk] ALERT: backup failed at step export: database connection failed" >expect &&
	test_cmp expect parsed/subject &&
	grep -x "    cannot connect to postgres:5432 as backup: timeout" parsed/text &&
	grep -x "Failed step        export" parsed/text &&
	grep -x "    2026-11-25T02:00:01+00:00 ERROR bk-export\[7\]: leaked \*\*\* and \*\*\*" parsed/text &&
	! grep -F -e "$POSTGRES_PASSWORD" -e "$SMTP_TEST_PASS" "$f.eml" parsed/text parsed/html &&
	smtp_envelope "$f.json" | grep -c "^to " >count &&
	echo 3 >expect &&
	test_cmp expect count
'

test_expect_success 'lines of a lone dot do not end the SMTP data early' '
	printf "%s\n" "before" "." ".." "after" >reason &&
	bk-mail --alert "dots" --reason "$(cat reason)" >id &&
	n=$(smtp_count "$MAIN_DIR") &&
	f=$(printf "%s/msg-%04d" "$MAIN_DIR" "$n") &&
	mail_parse "$f.eml" parsed &&
	test_cmp id parsed/message-id &&
	sed -n "/^Reason/,/^\$/p" parsed/text | sed "1,2d; \$d" >actual &&
	sed "s/^/    /" reason >expect &&
	test_cmp expect actual
'

test_expect_success 'large archive (2 MB, limit 1 MB): a link, no attachment' '
	big=$BACKUP_DIR/critical_backup_20261126_020000.tar.gz &&
	mail_make_archive "$big" 2048 &&
	before=$(smtp_count "$MAIN_DIR") &&
	BACKUP_MAIL_ATTACH_MAX_MB=1 BACKUP_LINK_BASE=https://backup.example.com/backups/ \
	BACKUP_LINK_SECRET=0123456789abcdef0123456789abcdef bk-mail --backup "$big" >id &&
	test "$(smtp_count "$MAIN_DIR")" = $((before + 1)) &&
	f=$(printf "%s/msg-%04d" "$MAIN_DIR" $((before + 1))) &&
	test "$(stat -c %s "$f.eml")" -lt 100000 &&
	mail_parse "$f.eml" parsed &&
	printf "%s\n" multipart/mixed " multipart/alternative" "  text/plain" "  text/html" >expect &&
	test_cmp expect parsed/structure &&
	grep "^    https://backup.example.com/backups/critical_backup_20261126_020000.tar.gz?md5=[A-Za-z0-9_-]\{22\}&expires=[0-9]*\$" parsed/text
'

# Under AddressSanitizer freed memory is held in quarantine, which would
# count every buffer ever used; without quarantine the figure is the real one.
test_expect_success 'a 16 MiB attachment is streamed: memory does not grow with it' '
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 &&
	small_rss=$("$SMTP_TEST_PYTHON" - bk-mail --backup "$ARCHIVE" <<-\EOF
	import resource, subprocess, sys
	subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
	EOF
	) &&
	huge=$BACKUP_DIR/critical_backup_20261127_020000.tar.gz &&
	mail_make_archive "$huge" 16384 &&
	before=$(smtp_count "$MAIN_DIR") &&
	huge_rss=$("$SMTP_TEST_PYTHON" - bk-mail --backup "$huge" <<-\EOF
	import resource, subprocess, sys
	subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
	EOF
	) &&
	echo "max RSS: $small_rss KiB with a small archive, $huge_rss KiB with 16 MiB" &&
	test $((huge_rss - small_rss)) -lt 4096 &&
	f=$(printf "%s/msg-%04d" "$MAIN_DIR" $((before + 1))) &&
	mail_parse "$f.eml" parsed &&
	cmp "$huge" parsed/attachments/critical_backup_20261127_020000.tar.gz
'

test_expect_success 'untrusted certificate (no SMTP_CA_FILE): not sent, no AUTH, exit 1' '
	before=$(smtp_count "$MAIN_DIR") &&
	auth_before=$(smtp_auth_attempts "$MAIN_DIR") &&
	test_expect_code 1 env -u SMTP_CA_FILE bk-mail --test >out 2>err &&
	test ! -s out &&
	test "$(smtp_count "$MAIN_DIR")" = "$before" &&
	test "$(smtp_auth_attempts "$MAIN_DIR")" = "$auth_before" &&
	errors err >actual &&
	cat >expect <<-EOF &&
	cannot send mail via 127.0.0.1:$MAIN_PORT after 1 attempt: SSL certificate problem: self-signed certificate
	hint: the server${SQ}s certificate is not trusted or does not match SMTP_HOST; for a private CA set SMTP_CA_FILE
	EOF
	test_cmp expect actual
'

test_expect_success 'certificate for another host name: not sent, exit 1' '
	test_expect_code 1 env SMTP_PORT=$OTHER_PORT SMTP_CA_FILE=$SMTP_TEST_CERTS/other.crt \
		bk-mail --test >out 2>err &&
	test ! -s out &&
	test "$(smtp_count "$OTHER_DIR")" = 0 &&
	test "$(smtp_auth_attempts "$OTHER_DIR")" = 0 &&
	errors err | head -n 1 >actual &&
	echo "cannot send mail via 127.0.0.1:$OTHER_PORT after 1 attempt: SSL: no alternative certificate subject name matches target host name ${SQ}127.0.0.1${SQ}" >expect &&
	test_cmp expect actual
'

test_expect_success 'wrong password: one AUTH attempt seen by the server (not retried), exit 1 with its reply' '
	auth_before=$(smtp_auth_attempts "$MAIN_DIR") &&
	before=$(smtp_count "$MAIN_DIR") &&
	: >"$BACKUP_LOG" &&
	test_expect_code 1 env SMTP_PASS=wrong-password bk-mail --test >out 2>err &&
	test ! -s out &&
	test "$(smtp_count "$MAIN_DIR")" = "$before" &&
	test "$(smtp_auth_attempts "$MAIN_DIR")" = $((auth_before + 1)) &&
	tail -n 1 "$MAIN_DIR/auth.log" | sed "s/^LOGIN /PLAIN /" >actual &&
	printf "PLAIN $SMTP_TEST_USER fail\n" >expect &&
	test_cmp expect actual &&
	errors err >actual &&
	cat >expect <<-EOF &&
	cannot send mail via 127.0.0.1:$MAIN_PORT after 1 attempt: Login denied (server said: 535 5.7.8 Authentication credentials invalid)
	hint: check SMTP_USER and SMTP_PASS (an app password for Gmail)
	EOF
	test_cmp expect actual &&
	attempts "$BACKUP_LOG" >actual &&
	printf "attempt %s\n" "1 start" "1 failed" >expect &&
	test_cmp expect actual &&
	! grep -F "wrong-password" "$BACKUP_LOG" err
'

test_expect_success 'server down: 3 attempts, exit 1, a clear message' '
	port=$(test_free_port) &&
	: >"$BACKUP_LOG" &&
	test_expect_code 1 env SMTP_PORT=$port bk-mail --test >out 2>err &&
	test ! -s out &&
	attempts "$BACKUP_LOG" >actual &&
	printf "attempt %s\n" "1 start" "1 failed" "2 start" "2 failed" "3 start" "3 failed" >expect &&
	test_cmp expect actual &&
	errors err >actual &&
	sed -n 1p actual | grep "^cannot send mail via 127.0.0.1:$port after 3 attempts: Failed to connect to 127.0.0.1 port $port after [0-9]* ms: Couldn${SQ}t connect to server\$" &&
	sed -n 2p actual >hint &&
	echo "hint: check SMTP_HOST and SMTP_PORT, and that the server is reachable" >expect &&
	test_cmp expect hint
'

test_expect_success 'SMTP_TLS=tls: implicit TLS (smtps) works' '
	SMTP_TLS=tls SMTP_PORT=$TLS_PORT bk-mail --backup "$ARCHIVE" >id &&
	test "$(smtp_count "$TLS_DIR")" = 1 &&
	smtp_envelope "$TLS_DIR/msg-0001.json" | tail -n 2 >actual &&
	printf "%s\n" "tls True" "authenticated True" >expect &&
	test_cmp expect actual &&
	mail_parse "$TLS_DIR/msg-0001.eml" parsed &&
	test_cmp id parsed/message-id &&
	cmp "$ARCHIVE" parsed/attachments/critical_backup_20261125_020000.tar.gz
'

test_expect_success 'SMTP_TLS=none to a loopback server without TLS or AUTH' '
	export SMTP_TLS=none SMTP_PORT=$PLAIN_PORT &&
	unset SMTP_USER SMTP_PASS SMTP_CA_FILE &&
	bk-mail --test >id &&
	test "$(smtp_count "$PLAIN_DIR")" = 1 &&
	smtp_envelope "$PLAIN_DIR/msg-0001.json" >actual &&
	cat >expect <<-EOF &&
	from bk@$(cut -d@ -f2 id | tr -d ">")
	to admin1@example.com
	to admin2@example.org
	to ops@example.net
	tls False
	authenticated False
	EOF
	test_cmp expect actual &&
	SMTP_HOST=localhost bk-mail --test >id &&
	test "$(smtp_count "$PLAIN_DIR")" = 2
'

test_expect_success 'starttls never falls back to clear text: a server without STARTTLS gets nothing' '
	test_expect_code 1 env SMTP_PORT=$PLAINAUTH_PORT bk-mail --test >out 2>err &&
	test "$(smtp_count "$PLAINAUTH_DIR")" = 0 &&
	test "$(smtp_auth_attempts "$PLAINAUTH_DIR")" = 0 &&
	errors err >actual &&
	cat >expect <<-EOF &&
	cannot send mail via 127.0.0.1:$PLAINAUTH_PORT after 1 attempt: STARTTLS not supported.
	hint: the server does not offer STARTTLS; try SMTP_TLS=tls and SMTP_PORT=465
	EOF
	test_cmp expect actual
'

test_expect_success 'the retry pauses grow: 10 s then 20 s unless shortened for tests' '
	port=$(test_free_port) &&
	: >"$BACKUP_LOG" &&
	test_expect_code 1 env BK_MAIL_RETRY_DELAY_MS=30 SMTP_PORT=$port bk-mail --test 2>err &&
	sed -n "s/.*failed after [0-9.]* s: .*; next attempt in \([0-9.]*\) s\$/\1/p" "$BACKUP_LOG" >actual &&
	printf "%s\n" 0.0 0.1 >expect &&
	test_cmp expect actual
'

test_done
