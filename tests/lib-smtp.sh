# A real SMTP server for bk-mail's tests, sourced after lib.sh: tests/smtpd.py
# (python3-aiosmtpd) on a loopback port it picks itself, with a certificate
# made here by openssl, AUTH required. Also test archives made without bk
# (MANIFEST first, then BACKUP_INFO.txt) and a MIME parser for what arrives.

SMTP_TEST_PYTHON=/usr/bin/python3
SMTP_TEST_USER=bk-test
SMTP_TEST_PASS=pw-$(test_random_hex 20)
SMTP_TEST_CERTS=$TRASH/smtp-certs
_smtp_pids=()

# Skip the script unless python3-aiosmtpd and openssl are there.
smtp_check_deps() {
	[ -x "$SMTP_TEST_PYTHON" ] ||
		test_skip_all "no $SMTP_TEST_PYTHON (install python3; tools/install-deps)"
	"$SMTP_TEST_PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
		test_skip_all "python3-aiosmtpd not installed (tools/install-deps)"
	command -v openssl >/dev/null ||
		test_skip_all "openssl not installed (tools/install-deps)"
}

# smtp_make_cert NAME SAN: a self-signed certificate $SMTP_TEST_CERTS/NAME.crt
# (and .key) for subjectAltName SAN, e.g. "DNS:localhost,IP:127.0.0.1".
smtp_make_cert() {
	mkdir -p "$SMTP_TEST_CERTS"
	[ -f "$SMTP_TEST_CERTS/$1.crt" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 2 -subj "/CN=bk test $1" -addext "subjectAltName=$2" \
		-keyout "$SMTP_TEST_CERTS/$1.key" -out "$SMTP_TEST_CERTS/$1.crt" \
		>"$SMTP_TEST_CERTS/$1.log" 2>&1 || {
		sed 's/^/# /' "$SMTP_TEST_CERTS/$1.log"
		test_skip_all "openssl cannot make a test certificate"
	}
}

# smtp_start [--tls starttls|tls|none] [--cert NAME] [--no-auth] [--slow SECONDS]
#            [--max-size BYTES]
# Start a server (default: STARTTLS, certificate for localhost and 127.0.0.1,
# AUTH as $SMTP_TEST_USER). Sets SMTP_TEST_DIR (messages land there),
# SMTP_TEST_PORT, SMTP_TEST_PID and exports the SMTP_* variables for it.
# Call it from the script, not from a test body: the server is stopped when
# the script exits, which a body's subshell does not see.
smtp_start() {
	local tls=starttls cert=localhost auth=1 i=0 dir slow= max=
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) tls=$2; shift ;;
		--cert) cert=$2; shift ;;
		--no-auth) auth=0 ;;
		--slow) slow=$2; shift ;;
		--max-size) max=$2; shift ;;
		*) echo "Bail out! smtp_start: unknown option $1"; exit 1 ;;
		esac
		shift
	done
	smtp_check_deps
	[ "$cert" = localhost ] && smtp_make_cert localhost "DNS:localhost,IP:127.0.0.1"
	dir=$(mktemp -d "$TRASH/smtpd.XXXXXX") || test_skip_all "cannot create a directory"
	set -- --dir "$dir" --tls "$tls"
	[ "$tls" != none ] && set -- "$@" --cert "$SMTP_TEST_CERTS/$cert.crt" \
		--key "$SMTP_TEST_CERTS/$cert.key"
	[ $auth = 1 ] && set -- "$@" --user "$SMTP_TEST_USER" --password "$SMTP_TEST_PASS"
	[ -n "$slow" ] && set -- "$@" --slow "$slow"
	[ -n "$max" ] && set -- "$@" --max-size "$max"
	"$SMTP_TEST_PYTHON" "$TEST_DIRECTORY/smtpd.py" "$@" \
		</dev/null >"$dir/server.log" 2>&1 &
	SMTP_TEST_PID=$!
	_smtp_pids+=("$SMTP_TEST_PID")
	[ ${#_smtp_pids[@]} = 1 ] && test_atexit smtp_stop_all
	# Poll for the file the server writes once it listens; stop if it died.
	while [ ! -s "$dir/ready" ]; do
		if ! kill -0 "$SMTP_TEST_PID" 2>/dev/null; then
			sed 's/^/# /' "$dir/server.log"
			test_skip_all "the test SMTP server did not start"
		fi
		i=$((i + 1))
		[ $i -le 600 ] || test_skip_all "the test SMTP server not ready after 30s"
		sleep 0.05
	done
	SMTP_TEST_DIR=$dir
	SMTP_TEST_PORT=$(cat "$dir/ready")
	export SMTP_HOST=127.0.0.1 SMTP_PORT=$SMTP_TEST_PORT SMTP_TLS=$tls
	unset SMTP_USER SMTP_PASS SMTP_CA_FILE
	[ $auth = 1 ] && export SMTP_USER=$SMTP_TEST_USER SMTP_PASS=$SMTP_TEST_PASS
	[ "$tls" != none ] && export SMTP_CA_FILE=$SMTP_TEST_CERTS/$cert.crt
	return 0
}

# smtp_stop [PID]: stop one server (default: the last started).
smtp_stop() {
	local pid=${1:-$SMTP_TEST_PID}
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" && wait "$pid" 2>/dev/null
	return 0
}

smtp_stop_all() {
	local pid
	for pid in "${_smtp_pids[@]}"; do
		smtp_stop "$pid"
	done
}

# smtp_count DIR: messages received so far.
smtp_count() {
	local n=0 f
	for f in "$1"/msg-*.eml; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

# smtp_auth_attempts DIR: AUTH commands the server saw.
smtp_auth_attempts() {
	if [ -f "$1/auth.log" ]; then wc -l <"$1/auth.log"; else echo 0; fi
}

# smtp_envelope JSON: "from ADDR" then "to ADDR" lines, recipients sorted.
smtp_envelope() {
	"$SMTP_TEST_PYTHON" -c 'import json, sys
e = json.load(open(sys.argv[1]))
print("from", e["mail_from"])
for r in sorted(e["rcpt_tos"]):
    print("to", r)
print("tls", e["tls"])
print("authenticated", e["authenticated"])' "$1"
}

# mail_make_archive PATH [RANDOM_KIB]: a bk-like archive: MANIFEST first,
# BACKUP_INFO.txt, users.sql, credit_transactions.csv and, with RANDOM_KIB,
# random.bin of that many KiB (incompressible, to make a large archive).
mail_make_archive() {
	local out=$1 kib=${2:-0} d f rows
	d=$(mktemp -d "$TRASH/archive.XXXXXX") || return 1
	(
		cd "$d" || exit 1
		printf 'COPY public.users (id, email) FROM stdin;\n1\ta@example.com\n2\tb@example.com\n\\.\n' >users.sql
		printf 'id,amount,created_at\n1,10,2026-11-01\n' >credit_transactions.csv
		cat >BACKUP_INFO.txt <<-EOF
		BACKUP $(basename "$out")

		Database smart_ai_hub on db.example
		  users.sql                 2 rows
		  credit_transactions.csv   1 row


		HOW TO RESTORE
		==============

		A. With bk, one command

		    \$ bk-unpack --restore $(basename "$out")

		B. By hand, with psql

		    \$ tar -xzf $(basename "$out")
		    \$ psql -v ON_ERROR_STOP=1 -f users.sql
		EOF
		set -- BACKUP_INFO.txt users.sql credit_transactions.csv
		if [ "$kib" -gt 0 ]; then
			head -c "$((kib * 1024))" /dev/urandom >random.bin
			set -- "$@" random.bin
		fi
		{
			echo "# format: bk 1"
			echo "# created: 2026-11-25T02:00:03+07:00"
			echo "# host: db.example"
			echo "# database: smart_ai_hub"
			echo "# server_version: 15.4"
			echo "# table: users.sql 2 public.users"
			echo "# table: credit_transactions.csv 1 public.credit_transactions"
			echo "# window: credit_transactions.csv created_at >= 2026-08-25 02:00:03+07"
			echo "# warning: table public.system_settings does not exist"
			for f in "$@"; do
				case $f in
				users.sql) rows=2 ;;
				credit_transactions.csv) rows=1 ;;
				*) rows=- ;;
				esac
				echo "$(sha256sum "$f" | cut -c1-64) $(stat -c %s "$f") $rows $f"
			done
		} >MANIFEST
		tar -czf "$out" MANIFEST "$@"
	) || return 1
	rm -rf "$d"
}

# mail_parse EML DIR: parse a message with python's email package (a real
# MIME parser) into DIR: subject, from, to, message-id, date (as parsed),
# structure (content types, indented), text, html, attachments/NAME
# (decoded), problems (defects, bare LF, long lines). Fails on problems.
mail_parse() {
	"$SMTP_TEST_PYTHON" - "$1" "$2" <<-\EOF
	import email.utils, os, sys
	from email import policy
	from email.parser import BytesParser
	path, out = sys.argv[1], sys.argv[2]
	os.makedirs(os.path.join(out, "attachments"), exist_ok=True)
	raw = open(path, "rb").read()
	msg = BytesParser(policy=policy.default).parsebytes(raw)
	problems = []
	if b"\n" in raw.replace(b"\r\n", b""):
	    problems.append("bare LF or CR")
	for i, line in enumerate(raw.split(b"\r\n")):
	    if len(line) > 998:
	        problems.append("line %d is %d bytes" % (i + 1, len(line)))
	structure = []
	text = html = None
	def walk(part, depth):
	    global text, html
	    for d in part.defects:
	        problems.append("%s: %s" % (part.get_content_type(), type(d).__name__))
	    line = " " * depth + part.get_content_type()
	    if part.get_content_disposition() == "attachment":
	        name = part.get_filename()
	        line += " attachment " + name
	        with open(os.path.join(out, "attachments", name), "wb") as f:
	            f.write(part.get_payload(decode=True))
	    structure.append(line)
	    if part.is_multipart():
	        for p in part.iter_parts():
	            walk(p, depth + 1)
	    elif part.get_content_type() == "text/plain" and text is None:
	        text = part.get_content().replace("\r\n", "\n")
	    elif part.get_content_type() == "text/html" and html is None:
	        html = part.get_content().replace("\r\n", "\n")
	walk(msg, 0)
	def put(name, value):
	    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
	        f.write(value if value.endswith("\n") or not value else value + "\n")
	for h in ("subject", "from", "to", "message-id", "date", "mime-version"):
	    if len(msg.get_all(h, [])) != 1:
	        problems.append("%d %s header fields" % (len(msg.get_all(h, [])), h))
	put("subject", str(msg["subject"] or ""))
	put("from", str(msg["from"] or ""))
	put("to", "\n".join(a.addr_spec for a in msg["to"].addresses) if msg["to"] else "")
	put("message-id", str(msg["message-id"] or ""))
	try:
	    put("date", email.utils.parsedate_to_datetime(str(msg["date"])).isoformat())
	except Exception as e:
	    problems.append("bad Date: %s" % e)
	put("structure", "\n".join(structure))
	put("text", text or "")
	put("html", html or "")
	put("problems", "\n".join(problems))
	if problems:
	    print("\n".join(problems), file=sys.stderr)
	    sys.exit(1)
	EOF
}

# mail_link_of EML: the download link in the text part of a message (the
# parsed message is left in $TRASH/parsed).
mail_link_of() {
	rm -rf "$TRASH/parsed" &&
	mail_parse "$1" "$TRASH/parsed" &&
	grep -o "^    http://[^ ]*" "$TRASH/parsed/text" | sed "s/^ *//"
}

# http_status URL [OUT]: the HTTP status code of a GET, the body to OUT.
http_status() {
	curl -sS -o "${2:-/dev/null}" -w "%{http_code}\n" "$1"
}
