#!/bin/bash
# bk-mail without a server: --help, usage and configuration errors (exit 2,
# naming the variable), header injection, and the exact messages it writes
# to BACKUP_MAIL_OUTBOX, parsed by python's email package.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'bk-mail usage, configuration, outbox messages'

"$SMTP_TEST_PYTHON" -c 'import email' 2>/dev/null ||
	test_skip_all "no $SMTP_TEST_PYTHON to parse the messages"

ARCHIVE=$BACKUP_DIR/critical_backup_20261125_020000.tar.gz
export ADMIN_EMAILS="admin1@example.com , admin2@example.org,ops@example.net"
export SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
HOST=$("$SMTP_TEST_PYTHON" -c 'import re, socket
h = socket.gethostname()
ok = re.fullmatch(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*", h)
print(h if ok and len(h) <= 253 else "localhost")')

# The ERROR lines of a log, without time stamp and program.
errors() {
	sed -n 's/^[^ ]* ERROR bk-mail\[[0-9]*\]: //p' "$1"
}

# expect_config_error 'message' [VAR=VALUE | -u VAR]...: bk-mail --test with
# that environment exits 2, prints nothing on stdout, writes no message, and
# its first error line is the message.
expect_config_error() {
	local msg=$1
	shift
	rm -rf "$TRASH/outbox"
	test_expect_code 2 env "$@" bk-mail --test >out 2>err &&
	test ! -s out &&
	test_path_is_missing "$TRASH/outbox" &&
	errors err | head -n 1 >actual &&
	echo "$msg" >expect &&
	test_cmp expect actual
}

# human SIZE: the size as bk-mail shows it.
human() {
	awk -v n="$1" 'BEGIN {
		if (n < 1024) { printf "%d B\n", n; exit }
		v = n / 1024; u = "KB"
		if (v >= 1023.5) { v /= 1024; u = "MB" }
		if (v < 9.95) printf "%.1f %s\n", v, u; else printf "%.0f %s\n", v, u }'
}

test_expect_success 'setup: a small archive' '
	mkdir -p "$BACKUP_DIR" &&
	mail_make_archive "$ARCHIVE" &&
	test_path_is_file "$ARCHIVE"
'

test_expect_success '--help: usage on stdout, exit 0, lines of at most 80 columns' '
	bk-mail --help >out 2>err &&
	test ! -s err &&
	head -n 1 out >first &&
	echo "usage: bk-mail --backup FILE [--duration SECONDS] [--env-file FILE]" >expect &&
	test_cmp expect first &&
	awk "length > 80 { print; bad = 1 } END { exit bad }" out &&
	bk-mail -h >out2 &&
	test_cmp out out2
'

test_expect_success '--help and the man page name the same options' '
	bk-mail --help >out &&
	for o in "--backup FILE" "--duration SECONDS" "--alert SUBJECT" "--reason TEXT" \
		 "--test" "--env-file FILE" "--help" "--version"; do
		grep -e "$o" out >/dev/null || { echo "help lacks $o"; exit 1; }
		m=$(printf "%s" "${o%% *}" | sed "s/-/\\\\-/g")
		grep -F -e "$m" "$BK_ROOT/man/bk-mail.1" >/dev/null ||
			{ echo "man page lacks $o"; exit 1; }
	done
'

test_expect_success '--version' '
	bk-mail --version >out 2>err &&
	test ! -s err &&
	grep "^bk-mail (bk) [0-9]" out
'

test_expect_success 'usage errors exit 2 with a hint and send nothing' '
	for args in "" "--bogus" "--test --alert x" "--backup a --test" \
		    "--test --reason why" "--alert x --duration 3" "--test extra" \
		    "--backup $ARCHIVE --duration soon" "--alert"; do
		test_expect_code 2 bk-mail $args >out 2>err || { echo "args: $args"; exit 1; }
		test ! -s out &&
		grep -F "Try ${SQ}bk-mail --help${SQ} for more information." err >/dev/null ||
			{ echo "args: $args"; cat err; exit 1; }
	done &&
	test_path_is_missing "$TRASH/outbox"
'

test_expect_success 'ADMIN_EMAILS missing, empty or with a bad address: exit 2 naming it' '
	expect_config_error "ADMIN_EMAILS is not set" -u ADMIN_EMAILS &&
	expect_config_error "ADMIN_EMAILS is not set" ADMIN_EMAILS= &&
	expect_config_error "ADMIN_EMAILS: ${SQ}not-an-address${SQ} is not a valid e-mail address" \
		ADMIN_EMAILS="a@example.com, not-an-address" &&
	expect_config_error "ADMIN_EMAILS: ${SQ}a@b@example.com${SQ} is not a valid e-mail address" \
		ADMIN_EMAILS="a@b@example.com" &&
	expect_config_error "ADMIN_EMAILS: ${SQ}Admin <a@example.com>${SQ} is not a valid e-mail address" \
		ADMIN_EMAILS="Admin <a@example.com>" &&
	expect_config_error "ADMIN_EMAILS: ${SQ}a..b@example.com${SQ} is not a valid e-mail address" \
		ADMIN_EMAILS="a..b@example.com" &&
	expect_config_error "ADMIN_EMAILS: ${SQ}a@-example.com${SQ} is not a valid e-mail address" \
		ADMIN_EMAILS="a@-example.com" &&
	expect_config_error "ADMIN_EMAILS: empty address in the list ${SQ}a@example.com,,b@example.com${SQ}" \
		ADMIN_EMAILS="a@example.com,,b@example.com"
'

test_expect_success 'an address with a line break is refused, and logged on one line' '
	expect_config_error "ADMIN_EMAILS: ${SQ}a@example.com??Bcc: x@example.com${SQ} is not a valid e-mail address" \
		ADMIN_EMAILS="$(printf "a@example.com\r\nBcc: x@example.com")" &&
	test "$(errors err | wc -l)" = 1
'

test_expect_success 'sender: SMTP_FROM must be an address; SMTP_USER stands in if it is one' '
	expect_config_error "SMTP_FROM: ${SQ}nobody${SQ} is not a valid e-mail address" \
		SMTP_FROM=nobody &&
	expect_config_error "SMTP_FROM is not set and SMTP_USER ${SQ}apikey${SQ} is not an e-mail address" \
		-u SMTP_FROM SMTP_USER=apikey SMTP_PASS=secret-pass &&
	env -u SMTP_FROM SMTP_USER=me@example.com SMTP_PASS=secret-pass bk-mail --test >path &&
	mail_parse "$(cat path)" parsed &&
	echo "bk on $HOST <me@example.com>" >expect &&
	test_cmp expect parsed/from
'

test_expect_success 'SMTP settings checked before anything is sent' '
	expect_config_error "SMTP_HOST is not set" -u BACKUP_MAIL_OUTBOX &&
	expect_config_error "SMTP_TLS: none is only allowed for a server on loopback, not mail.example.com" \
		-u BACKUP_MAIL_OUTBOX SMTP_HOST=mail.example.com SMTP_TLS=none &&
	expect_config_error "SMTP_TLS: none is only allowed for a server on loopback, not 10.0.0.1" \
		-u BACKUP_MAIL_OUTBOX SMTP_HOST=10.0.0.1 SMTP_TLS=none &&
	expect_config_error "SMTP_PASS is not set, but SMTP_USER is" \
		-u BACKUP_MAIL_OUTBOX SMTP_HOST=mail.example.com SMTP_USER=me@example.com &&
	expect_config_error "SMTP_USER is not set, but SMTP_PASS is" \
		-u BACKUP_MAIL_OUTBOX SMTP_HOST=mail.example.com SMTP_PASS=secret-pass &&
	expect_config_error "SMTP_CA_FILE: cannot read $TRASH/no-ca.pem: No such file or directory" \
		-u BACKUP_MAIL_OUTBOX SMTP_HOST=mail.example.com SMTP_CA_FILE=$TRASH/no-ca.pem &&
	expect_config_error "SMTP_HOST: ${SQ}mail example.com${SQ} is not a host name or address" \
		-u BACKUP_MAIL_OUTBOX "SMTP_HOST=mail example.com" &&
	expect_config_error "configuration: SMTP_TLS: ${SQ}ssl${SQ} is not one of starttls, tls, none" \
		SMTP_TLS=ssl &&
	expect_config_error "configuration: SMTP_PORT: ${SQ}abc${SQ} is not a whole number" \
		SMTP_PORT=abc &&
	expect_config_error "configuration: BACKUP_MAIL_ATTACH_MAX_MB: -1 is out of range (0..10000)" \
		BACKUP_MAIL_ATTACH_MAX_MB=-1
'

test_expect_success 'download link settings checked' '
	expect_config_error "BACKUP_LINK_SECRET is not set, but BACKUP_LINK_BASE is" \
		BACKUP_LINK_BASE=https://backup.example.com/backups/ &&
	expect_config_error "BACKUP_LINK_SECRET: must be 16 to 256 characters long (it is 5)" \
		BACKUP_LINK_BASE=https://backup.example.com/backups/ BACKUP_LINK_SECRET=short &&
	expect_config_error "BACKUP_LINK_SECRET: only letters, digits and . _ ~ + / = - may be used" \
		BACKUP_LINK_BASE=https://backup.example.com/backups/ \
		BACKUP_LINK_SECRET="0123456789abcdef\$host" &&
	expect_config_error "BACKUP_LINK_BASE: ${SQ}ftp://backup.example.com/${SQ} is not an http:// or https:// URL with a host name" \
		BACKUP_LINK_BASE=ftp://backup.example.com/ BACKUP_LINK_SECRET=0123456789abcdef &&
	expect_config_error "BACKUP_LINK_BASE: the path must be in normal form (no //, ./ or ../)" \
		BACKUP_LINK_BASE=https://backup.example.com/a/../b/ BACKUP_LINK_SECRET=0123456789abcdef
'

test_expect_success '--backup to the outbox: one .eml, its path on stdout, mode 0600' '
	bk-mail --backup "$ARCHIVE" --duration 75 >path 2>err &&
	ls outbox >files &&
	test "$(wc -l <files)" = 1 &&
	echo "$TRASH/outbox/$(cat files)" >expect &&
	test_cmp expect path &&
	case $(cat files) in [0-9]*_[0-9]*-backup.eml) ;; *) false ;; esac &&
	test "$(stat -c %a "$(cat path)")" = 600 &&
	test "$(stat -c %a outbox)" = 700
'

test_expect_success 'the backup mail is well-formed MIME with text, HTML and the archive' '
	eml=$(ls outbox/*-backup.eml) &&
	mail_parse "$eml" parsed &&
	cat >expect <<-EOF &&
	multipart/mixed
	 multipart/alternative
	  text/plain
	  text/html
	 application/gzip attachment critical_backup_20261125_020000.tar.gz
	EOF
	test_cmp expect parsed/structure &&
	cmp "$ARCHIVE" parsed/attachments/critical_backup_20261125_020000.tar.gz &&
	printf "%s\n" admin1@example.com admin2@example.org ops@example.net >expect &&
	test_cmp expect parsed/to &&
	echo "bk on $HOST <backup@example.com>" >expect &&
	test_cmp expect parsed/from &&
	grep "^<[0-9a-f]\{32\}@$HOST>\$" parsed/message-id &&
	grep "^MIME-Version: 1.0" "$eml" &&
	echo "[bk] Backup WARNING 2026-11-25 smart_ai_hub $(human "$(stat -c %s "$ARCHIVE")") (1 warning)" >expect &&
	test_cmp expect parsed/subject
'

test_expect_success 'base64 lines are 76 characters, quoted-printable 76, headers 78' '
	eml=$(ls outbox/*-backup.eml) &&
	"$SMTP_TEST_PYTHON" - "$eml" <<-\EOF
	import sys
	raw = open(sys.argv[1], "rb").read()
	head, body = raw.split(b"\r\n\r\n", 1)
	att = body.split(b"Content-Transfer-Encoding: base64\r\n\r\n", 1)[1]
	lines = att.split(b"\r\n--=_bk_mixed_")[0].split(b"\r\n")
	assert all(len(l) == 76 for l in lines[:-1]), "base64 line not 76"
	assert 0 < len(lines[-1]) <= 76
	text = body.split(b"Content-Transfer-Encoding: base64")[0]
	assert max(len(l) for l in (head + b"\r\n" + text).split(b"\r\n")) <= 78, "long line"
	for qp in text.split(b"quoted-printable\r\n\r\n")[1:]:
	    qp = qp.split(b"\r\n--=_bk_alt_")[0]
	    assert max(len(l) for l in qp.split(b"\r\n")) <= 76, "long QP line"
	EOF
'

test_expect_success 'the summary: file, size, date, database, tables, warnings, duration, restore' '
	mail_parse "$(ls outbox/*-backup.eml)" parsed &&
	size=$(stat -c %s "$ARCHIVE") &&
	sha=$(sha256sum "$ARCHIVE" | cut -c1-64) &&
	sed -n "/^File /,/^Warnings /p" parsed/text >actual &&
	cat >expect <<-EOF &&
	File               critical_backup_20261125_020000.tar.gz
	Size               $(human "$size")$([ "$size" -ge 1024 ] && echo " ($size bytes)")
	Date               2026-11-25T02:00:03+07:00
	Database           smart_ai_hub on db.example (PostgreSQL 15.4)
	Duration           1 min 15 s
	Backup host        $HOST
	SHA-256            $sha
	Signature          Unsigned: anyone could have made this archive; set BACKUP_SIGNING_KEY
	Warnings           1
	EOF
	test_cmp expect actual &&
	sed -n "/^Tables/,/^\$/p" parsed/text >actual &&
	cat >expect <<-\EOF &&
	Tables
	------
	  users.sql                  public.users                              2
	  credit_transactions.csv    public.credit_transactions                1  created_at >= 2026-08-25 02:00:03+07

	EOF
	test_cmp expect actual &&
	grep -x "  - table public.system_settings does not exist" parsed/text &&
	grep -x "The archive critical_backup_20261125_020000.tar.gz is attached to this mail." parsed/text &&
	sed -n "/^Restore/,/^With bk/p" parsed/text >actual &&
	cat >expect <<-\EOF &&
	Restore
	-------
	    HOW TO RESTORE
	    ==============
	    
	    A. With bk, one command
	    
	        $ bk-unpack --restore critical_backup_20261125_020000.tar.gz
	    
	    B. By hand, with psql
	    
	        $ tar -xzf critical_backup_20261125_020000.tar.gz
	        $ psql -v ON_ERROR_STOP=1 -f users.sql
	With bk installed: bk-verify critical_backup_20261125_020000.tar.gz, then bk-unpack critical_backup_20261125_020000.tar.gz --restore (see bk-unpack(1)).
	EOF
	test_cmp expect actual
'

test_expect_success 'the HTML part holds the same summary, escaped' '
	mail_parse "$(ls outbox/*-backup.eml)" parsed &&
	grep -F "<th style=\"text-align:left;vertical-align:top;padding:2px 16px 2px 0\">Database</th><td style=\"padding:2px 0\">smart_ai_hub on db.example (PostgreSQL 15.4)</td>" parsed/html &&
	grep -F "<td>created_at &gt;= 2026-08-25 02:00:03+07</td>" parsed/html &&
	grep -F "<li>table public.system_settings does not exist</li>" parsed/html &&
	grep -F "    \$ bk-unpack --restore critical_backup_20261125_020000.tar.gz" parsed/html &&
	grep "^</body></html>\$" parsed/html
'

test_expect_success 'no --duration: no duration row' '
	rm -rf outbox &&
	bk-mail --backup "$ARCHIVE" >path &&
	mail_parse "$(cat path)" parsed &&
	! grep "^Duration" parsed/text
'

test_expect_success 'the limit is on the encoded message: 800 KiB archive > 1 MiB mail -> no attachment' '
	rm -rf outbox &&
	a=$BACKUP_DIR/critical_backup_20261125_030000.tar.gz &&
	mail_make_archive "$a" 800 &&
	test "$(stat -c %s "$a")" -lt 1048576 &&
	BACKUP_MAIL_ATTACH_MAX_MB=1 bk-mail --backup "$a" >path 2>err &&
	mail_parse "$(cat path)" parsed &&
	printf "%s\n" multipart/mixed " multipart/alternative" "  text/plain" "  text/html" >expect &&
	test_cmp expect parsed/structure &&
	test "$(stat -c %s "$(cat path)")" -lt 100000 &&
	grep "^The archive is not attached: with it this mail would be 1\.[0-9] MB, over the limit of 1 MB (BACKUP_MAIL_ATTACH_MAX_MB).\$" parsed/text
'

test_expect_success '... and a 700 KiB archive (under 1 MiB encoded) is attached' '
	rm -rf outbox &&
	a=$BACKUP_DIR/critical_backup_20261125_040000.tar.gz &&
	mail_make_archive "$a" 700 &&
	BACKUP_MAIL_ATTACH_MAX_MB=1 bk-mail --backup "$a" >path &&
	test "$(stat -c %s "$(cat path)")" -le 1048576 &&
	mail_parse "$(cat path)" parsed &&
	cmp "$a" parsed/attachments/critical_backup_20261125_040000.tar.gz
'

test_expect_success 'too large and no BACKUP_LINK_BASE: where the file is and how to fetch it' '
	rm -rf outbox &&
	BACKUP_MAIL_ATTACH_MAX_MB=0 bk-mail --backup "$ARCHIVE" >path &&
	mail_parse "$(cat path)" parsed &&
	! grep attachment parsed/structure &&
	grep "^The archive is not attached: with it this mail would be [0-9.]* KB, over the limit of 0 MB (BACKUP_MAIL_ATTACH_MAX_MB).\$" parsed/text &&
	sed -n "/^It is on the backup host/,/^Check/p" parsed/text >actual &&
	cat >expect <<-EOF &&
	It is on the backup host $HOST at $ARCHIVE. Fetch it with:
	    scp $HOST:$ARCHIVE .
	(No download link: BACKUP_LINK_BASE is not set.)
	Check a downloaded copy with: sha256sum critical_backup_20261125_020000.tar.gz
	EOF
	test_cmp expect actual
'

test_expect_success 'a relative archive path is shown as an absolute one' '
	rm -rf outbox &&
	(cd "$BACKUP_DIR" && BACKUP_MAIL_ATTACH_MAX_MB=0 bk-mail --backup "$(basename "$ARCHIVE")") >path &&
	mail_parse "$(cat path)" parsed &&
	grep -x "    scp $HOST:$ARCHIVE ." parsed/text
'

test_expect_success 'with BACKUP_LINK_BASE: a signed link that expires after BACKUP_LINK_TTL_HOURS' '
	rm -rf outbox &&
	now=$(date +%s) &&
	BACKUP_LINK_BASE=https://backup.example.com/backups BACKUP_LINK_SECRET=0123456789abcdef0123 \
	BACKUP_LINK_TTL_HOURS=5 BACKUP_MAIL_ATTACH_MAX_MB=0 bk-mail --backup "$ARCHIVE" >path &&
	mail_parse "$(cat path)" parsed &&
	link=$(grep -o "https://backup.example.com/backups/[^ ]*" parsed/text) &&
	expires=${link##*expires=} &&
	test "$expires" -ge $((now + 5 * 3600)) &&
	test "$expires" -le $(($(date +%s) + 5 * 3600)) &&
	md5=$(printf "%s" "$expires/backups/critical_backup_20261125_020000.tar.gz 0123456789abcdef0123" |
	      openssl md5 -binary | openssl base64 | tr "+/" "-_" | tr -d "=") &&
	echo "https://backup.example.com/backups/critical_backup_20261125_020000.tar.gz?md5=$md5&expires=$expires" >expect &&
	echo "$link" >actual &&
	test_cmp expect actual &&
	grep -F "<a href=\"https://backup.example.com/backups/critical_backup_20261125_020000.tar.gz?md5=$md5&amp;expires=$expires\">" parsed/html
'

test_expect_success 'a non-ASCII alert subject is RFC 2047 encoded and decodes back' '
	rm -rf outbox &&
	subject="สำรองข้อมูลล้มเหลว: ดิสก์เต็ม — backup failed at step space: disk full on the backup volume" &&
	bk-mail --alert "$subject" --reason "disk full" >path &&
	mail_parse "$(cat path)" parsed &&
	echo "[bk] ALERT: $subject" >expect &&
	test_cmp expect parsed/subject &&
	sed -n "/^Subject:/,/^[^ ]/p" "$(cat path)" | sed "\$d" | tr -d "\r" >raw &&
	grep "^Subject: =?UTF-8?B?" raw &&
	! LC_ALL=C grep -q "[^ -~]" raw &&
	awk "length > 78 { bad = 1 } END { exit bad }" raw
'

test_expect_success 'a long ASCII subject is folded, not cut' '
	rm -rf outbox &&
	subject="backup failed at step export: $(printf "word%02d " $(seq 1 30))end" &&
	bk-mail --alert "$subject" >path &&
	mail_parse "$(cat path)" parsed &&
	echo "[bk] ALERT: $subject" >expect &&
	test_cmp expect parsed/subject &&
	tr -d "\r" <"$(cat path)" | sed -n "/^Subject:/,/^[^ ]/p" | sed "\$d" >raw &&
	test "$(wc -l <raw)" -gt 1 &&
	awk "length > 78 { bad = 1 } END { exit bad }" raw
'

test_expect_success 'header injection: a subject with CR or LF is refused, nothing written' '
	rm -rf outbox &&
	echo "bk-mail: --alert: the subject contains a line break" >expect &&
	for s in "$(printf "disk full\r\nBcc: evil@example.com")" \
		 "$(printf "disk full\nBcc: evil@example.com")"; do
		test_expect_code 2 bk-mail --alert "$s" >out 2>err &&
		test ! -s out &&
		head -n 1 err >actual &&
		test_cmp expect actual || exit 1
	done &&
	test_expect_code 2 bk-mail --alert "$(printf "disk\tfull")" >out 2>err &&
	echo "bk-mail: --alert: the subject contains a control character" >expect &&
	head -n 1 err >actual &&
	test_cmp expect actual &&
	test_path_is_missing outbox
'

test_expect_success 'header injection: a reason with CR/LF stays in the body' '
	rm -rf outbox &&
	bk-mail --alert "disk full" --reason "$(printf "space: disk full\r\nBcc: evil@example.com\r\n\r\nhello")" >path &&
	mail_parse "$(cat path)" parsed &&
	tr -d "\r" <"$(cat path)" | sed "/^\$/q" >headers &&
	! grep -i "evil" headers &&
	grep -x "    Bcc: evil@example.com" parsed/text
'

test_expect_success 'the body survives quoted-printable exactly: dots, =, spaces, UTF-8, long lines' '
	rm -rf outbox &&
	long=$(printf "x%.0s" $(seq 1 200)) &&
	printf "%s\n" "." ".." ".leading dot" "a=b =3D" "trailing spaces   " "tab	end	" \
		"ภาษาไทย: ฐานข้อมูลเชื่อมต่อไม่ได้" "$long" "" "last" >reason &&
	bk-mail --alert "disk full" --reason "$(cat reason)" >path &&
	mail_parse "$(cat path)" parsed &&
	sed -n "/^Reason/,/^What to check/p" parsed/text | sed "1,2d; \$d" | sed "\$d" >actual &&
	sed "s/^/    /" reason >expect &&
	test_cmp expect actual &&
	tr -d "\r" <"$(cat path)" | awk "length > 78 { bad = 1 } END { exit bad }"
'

test_expect_success 'a subject that looks like an encoded-word is encoded itself' '
	rm -rf outbox &&
	bk-mail --alert "=?UTF-8?B?SGFja2Vk?= fake" >path &&
	mail_parse "$(cat path)" parsed &&
	echo "[bk] ALERT: =?UTF-8?B?SGFja2Vk?= fake" >expect &&
	test_cmp expect parsed/subject
'

test_expect_success 'alert: reason, failed step, last good backup, what to check' '
	rm -rf outbox &&
	mkdir -p "$BACKUP_DIR" &&
	echo 1795960000 >"$BACKUP_DIR/.last_backup_success" &&
	echo 12 >"$BACKUP_DIR/.last_backup_size_mb" &&
	printf "1795960000\tok\t12582912\t40.0\tcritical_backup_20261124_020000.tar.gz\t-\n" >"$BACKUP_DIR/.backup_history" &&
	printf "1796046400\tfail\t0\t3.0\t-\texport: cannot connect\n" >>"$BACKUP_DIR/.backup_history" &&
	BK_MAIL_NOW=1796050000 bk-mail --alert "backup failed at step export: database connection failed" \
		--reason "cannot connect to postgres:5432 as backup: connection refused" \
		--cause failed:export >path &&
	mail_parse "$(cat path)" parsed &&
	echo "[bk] ALERT: backup failed at step export: database connection failed" >expect &&
	test_cmp expect parsed/subject &&
	sed -n "/^When/,/^Failed runs since/p" parsed/text >actual &&
	cat >expect <<-EOF &&
	When               $(date -d @1796050000 +%Y-%m-%dT%H:%M:%S+00:00)
	Backup host        $HOST
	Failed step        export
	Last good backup   $(date -d @1795960000 +%Y-%m-%dT%H:%M:%S+00:00) (25 h ago), critical_backup_20261124_020000.tar.gz
	Its size           12 MB
	Failed runs since  1
	EOF
	test_cmp expect actual &&
	sed -n "/^Reason/,/^\$/p" parsed/text >actual &&
	printf "%s\n" Reason ------ "    cannot connect to postgres:5432 as backup: connection refused" "" >expect &&
	test_cmp expect actual &&
	grep "^  - Is PostgreSQL up and reachable (POSTGRES_HOST, POSTGRES_PORT or DATABASE_URL)?" parsed/text
'

test_expect_success 'alert: the step comes from --cause failed:STEP; no status yet' '
	rm -rf outbox "$BACKUP_DIR"/.last_backup_* "$BACKUP_DIR/.backup_history" &&
	bk-mail --alert "backup failed" --reason "verify: archive is corrupt: bad CRC" \
		--cause failed:verify >path &&
	mail_parse "$(cat path)" parsed &&
	grep -x "Failed step        verify" parsed/text &&
	grep -x "Last good backup   none recorded in $BACKUP_DIR" parsed/text &&
	grep "^  - The new archive failed verification" parsed/text
'

test_expect_success 'alert: the last 30 lines of BACKUP_LOG with the secrets masked' '
	rm -rf outbox &&
	export SMTP_PASS=smtp-$(test_random_hex 16) POSTGRES_PASSWORD=pg-$(test_random_hex 16) \
	       BACKUP_LINK_SECRET=link-$(test_random_hex 16) &&
	: >"$BACKUP_LOG" &&
	for i in $(seq 1 40); do
		echo "2026-11-25T02:00:$i+00:00 INFO bk-run[1]: line $i pw=$SMTP_PASS pg=$POSTGRES_PASSWORD l=$BACKUP_LINK_SECRET" >>"$BACKUP_LOG"
	done &&
	bk-mail --alert "backup failed at step pack: disk full" --reason "pack: disk full, $POSTGRES_PASSWORD" >path &&
	mail_parse "$(cat path)" parsed &&
	sed -n "/^Last lines of the log/,/^\$/p" parsed/text | sed "1,2d; \$d" >actual &&
	for i in $(seq 11 40); do
		echo "    2026-11-25T02:00:$i+00:00 INFO bk-run[1]: line $i pw=*** pg=*** l=***"
	done >expect &&
	test_cmp expect actual &&
	grep -x "    pack: disk full, \*\*\*" parsed/text &&
	for s in "$SMTP_PASS" "$POSTGRES_PASSWORD" "$BACKUP_LINK_SECRET"; do
		! grep -F "$s" "$(cat path)" parsed/text parsed/html || exit 1
	done
'

test_expect_success 'alert: an unreadable log is said, not fatal' '
	rm -rf outbox &&
	BACKUP_LOG=$TRASH/no/such/log bk-mail --alert "disk full" >path 2>err &&
	mail_parse "$(cat path)" parsed &&
	grep -x "    (cannot read the log $TRASH/no/such/log: No such file or directory)" parsed/text
'

test_expect_success '--test writes a short message' '
	rm -rf outbox &&
	bk-mail --test >path &&
	mail_parse "$(cat path)" parsed &&
	echo "[bk] Test message from $HOST" >expect &&
	test_cmp expect parsed/subject &&
	printf "%s\n" multipart/mixed " multipart/alternative" "  text/plain" "  text/html" >expect &&
	test_cmp expect parsed/structure &&
	grep -x "Recipients         $ADMIN_EMAILS" parsed/text &&
	grep -x "Larger archives    path on the backup host (BACKUP_S3_URL and BACKUP_LINK_BASE not set)" parsed/text
'

test_expect_success '--test names the nginx link of larger archives' '
	BACKUP_LINK_BASE=https://backup.example.com/dl/ BACKUP_LINK_SECRET=s3cr3t-$$-0123456789abcdef \
		bk-mail --test >path &&
	mail_parse "$(cat path)" parsed &&
	grep -x "Larger archives    link under https://backup.example.com/dl/ (valid 72 h)" parsed/text &&
	! grep -r -F "s3cr3t-$$-0123456789abcdef" outbox
'

test_expect_success 'two messages in the same second get two files' '
	rm -rf outbox &&
	BK_MAIL_NOW=1796050000 bk-mail --test >p1 &&
	BK_MAIL_NOW=1796050000 bk-mail --test >p2 &&
	test "$(cat p1)" != "$(cat p2)" &&
	test_path_is_file "$(cat p1)" &&
	test_path_is_file "$(cat p2)" &&
	test "$(ls -A outbox | wc -l)" = 2
'

test_expect_success 'an archive that cannot be read: exit 1, clear message, nothing sent' '
	rm -rf outbox &&
	test_expect_code 1 bk-mail --backup "$TRASH/missing.tar.gz" >out 2>err &&
	test ! -s out &&
	errors err >actual &&
	echo "cannot read $TRASH/missing.tar.gz: No such file or directory" >expect &&
	test_cmp expect actual &&
	echo "not a gzip file" >bad.tar.gz &&
	test_expect_code 1 bk-mail --backup bad.tar.gz >out 2>err &&
	test ! -s out &&
	errors err | grep "^cannot read the summary of bad.tar.gz: " &&
	test_path_is_missing outbox
'

test_expect_success 'an archive made by bk-pack: its restore steps are in the mail' '
	if ! test -x "$BK_BUILD_DIR/bin/bk-pack"; then echo "no bk-pack: skipped"; exit 0; fi &&
	rm -rf outbox exp &&
	mkdir exp &&
	printf "CREATE TABLE public.users (id integer);\n" >exp/schema.sql &&
	printf "COPY public.users (id) FROM stdin;\n1\n2\n\\\\.\n" >exp/users.sql &&
	{
		echo "# format: bk 1"
		echo "# created: 2026-11-25T02:00:01+00:00"
		echo "# host: 127.0.0.1:5432"
		echo "# database: smart_ai_hub"
		echo "# server_version: 15.4"
		echo "# table: users.sql 2 public.users"
		for f in schema.sql:- users.sql:2; do
			echo "$(sha256sum <"exp/${f%%:*}" | cut -c1-64) $(stat -c %s "exp/${f%%:*}") ${f##*:} ${f%%:*}"
		done
	} >exp/MANIFEST &&
	a=$(BACKUP_CONFIG_FILES=" " bk-pack -o "$BACKUP_DIR/critical_backup_20261125_050000.tar.gz" exp) &&
	bk-mail --backup "$a" >path &&
	mail_parse "$(cat path)" parsed &&
	grep -x "    HOW TO RESTORE" parsed/text &&
	grep -x "        \$ bk-unpack --restore critical_backup_20261125_050000.tar.gz" parsed/text &&
	grep -x "  users.sql                  public.users                              2" parsed/text
'

test_done
