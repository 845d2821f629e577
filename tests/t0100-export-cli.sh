#!/bin/bash
# bk-export's command line: help, version, usage errors, configuration and
# scope errors (exit 2, found before any connection), an unreachable server
# (exit 1, nothing left), and the man page.
. "$(dirname "$0")/lib.sh"
test_description 'bk-export command line'

test_need_programs bk-export

# A port nothing listens on: the scope tests must not need a server.
export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=$(test_free_port) POSTGRES_PASSWORD=pw-$(test_random_hex 8)

test_expect_success '--help and -h: usage on stdout, exit 0, at most 80 columns' '
	bk-export --help >out 2>err &&
	test ! -s err &&
	head -n 1 out >actual &&
	echo "usage: bk-export [-o DIR] [--env-file FILE]" >expect &&
	test_cmp expect actual &&
	! grep -q ".\{81\}" out &&
	bk-export -h >out2 &&
	test_cmp out out2
'

test_expect_success '--help names every option of the man page' '
	for o in "-o, --output DIR" "--env-file FILE" "-h, --help" "--version"; do
		grep -q -e "^  *$o " out || { echo "missing: $o"; exit 1; }
	done &&
	grep -q "^Exit status: 0 exported, 1 failed, 2 usage, configuration or scope error.$" out
'

test_expect_success '--version' '
	bk-export --version >out &&
	grep -q "^bk-export (bk) [0-9][0-9.]*$" out
'

test_expect_success 'usage errors: one line and the hint on stderr, exit 2' '
	test_expect_code 2 bk-export --bogus >out 2>err &&
	test ! -s out &&
	printf "%s\n" "bk-export: unknown option --bogus" \
		"Try ${SQ}bk-export --help${SQ} for more information." >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-export -o 2>err &&
	test $(wc -l <err) = 2 &&
	test_expect_code 2 bk-export -o "" 2>err &&
	grep -q "^bk-export: -o needs a directory$" err &&
	test_expect_code 2 bk-export extra 2>err &&
	grep -q "^bk-export: unexpected argument ${SQ}extra${SQ}$" err &&
	test -z "$(ls -A "$BACKUP_TMPDIR")"
'

test_expect_success 'a malformed variable is exit 2 naming it' '
	BACKUP_STRICT=maybe test_expect_code 2 bk-export 2>err &&
	grep -q "configuration: BACKUP_STRICT" err
'

test_expect_success 'a scope error is exit 2 before connecting' '
	printf "%s\n" "# scope" "users.sql users" "x.csv a,b" >bad.scope &&
	BACKUP_SCOPE=bad.scope test_expect_code 2 bk-export >out 2>err &&
	test ! -s out &&
	echo "ERROR bk-export: bad.scope:3: x.csv: a .csv file holds exactly one table" >expect &&
	sed "s/^[^ ]* \([A-Z]*\) bk-export\[[0-9]*\]:/\1 bk-export:/" err >actual &&
	test_cmp expect actual &&
	! grep -q "cannot connect" err &&
	grep -q "bad.scope:3: x.csv" "$BACKUP_LOG"
'

test_expect_success 'BACKUP_SCOPE from --env-file' '
	echo "BACKUP_SCOPE=$TRASH/bad.scope" >bk.env &&
	test_expect_code 2 bk-export --env-file bk.env 2>err &&
	grep -q "ERROR bk-export\[[0-9]*\]: $TRASH/bad.scope:3: " err
'

test_expect_success 'an unreachable server is exit 1 and leaves nothing' '
	test_expect_code 1 bk-export >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-export\[[0-9]*\]: cannot connect to 127.0.0.1:$POSTGRES_PORT as postgres: " err &&
	! grep -F -q "$POSTGRES_PASSWORD" err "$BACKUP_LOG" &&
	test -z "$(ls -A "$BACKUP_TMPDIR")"
'

test_expect_success 'BACKUP_TMPDIR that does not exist: exit 1 naming it' '
	BACKUP_TMPDIR=$TRASH/none test_expect_code 1 bk-export 2>err &&
	grep -q "ERROR bk-export\[[0-9]*\]: cannot create a temporary directory in $TRASH/none: No such file or directory$" err
'

test_expect_success 'the man page has the usual sections and renders cleanly' '
	man=$BK_ROOT/man/bk-export.1 &&
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
		grep -q "^\.SH \"*$s\"*$" "$man" || { echo "no section $s"; exit 1; }
	done &&
	if command -v groff >/dev/null; then
		groff -man -Tutf8 -ww -z "$man" 2>err && test ! -s err
	fi
'

test_done
