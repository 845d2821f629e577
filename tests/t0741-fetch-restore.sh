#!/bin/bash
# The host is gone: on an "empty host" (a new BACKUP_DIR, a new empty
# database, only the S3 variables and the verify key), the lines of
# docs/BACKUP_RESTORE.md part 4 run as written against a real radosgw and
# restore the fixture database that the lost host backed up and uploaded.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'bk-fetch --latest | bk-unpack --restore on a new host'

test_need_programs bk-export bk-pack bk-fetch bk-unpack
command -v minisign >/dev/null ||
	test_skip_all "minisign is not installed (tools/install-deps installs it)"
DOC=$BK_ROOT/docs/BACKUP_RESTORE.md
pg_start && pg_load_fixture || exit 1
s3_start
s3_mkbucket bk-dr || exit 1

NAME=critical_backup_20261130_020000.tar.gz
test_expect_success 'the lost host: a signed backup, uploaded to its prefix' '
	mkdir -p config && echo "NODE_ENV=production" >config/.env.production &&
	minisign -G -W -p bk.pub -s bk.key >/dev/null &&
	BACKUP_CONFIG_DIR=$TRASH/config BACKUP_SIGNING_KEY_FILE=$TRASH/bk.key \
		BACKUP_VERIFY_KEY_FILE=$TRASH/bk.pub bk-pack -o "$TRASH/$NAME" "$(bk-export)" &&
	s3_curl -f -T "$TRASH/$NAME" "$S3_ENDPOINT/bk-dr/lost-host/critical_backup_20261129_020000.tar.gz" &&
	s3_curl -f -T "$TRASH/$NAME" "$S3_ENDPOINT/bk-dr/lost-host/$NAME" &&
	tar -xzOf "$TRASH/$NAME" MANIFEST >MANIFEST
'

test_expect_success 'the documented lines restore it on a new host' '
	awk "/^#+ / { on = index(\$0, \"The host is gone\") > 0; next }
	     on && /^    \\$ / { sub(/^    \\$ /, \"\"); print }" "$DOC" >part4.sh &&
	grep "bk-fetch --latest" part4.sh &&
	pg_psql -d postgres -c "CREATE DATABASE new_host" &&
	(
		export BACKUP_DIR=$TRASH/new-host/backups BACKUP_LOG=$TRASH/new-host.log
		export POSTGRES_DB=new_host BACKUP_VERIFY_KEY_FILE=$TRASH/bk.pub
		s3_env bk-dr lost-host/
		export BACKUP_S3_PATH_STYLE=1
		bash -e part4.sh >out 2>err
	) &&
	grep "^$NAME " out &&
	grep "127.0.0.1:$POSTGRES_PORT/new_host" out &&
	cmp "$TRASH/$NAME" "$TRASH/new-host/backups/$NAME"
'

test_expect_success 'the new database holds every table with the rows of MANIFEST' '
	sed -n "s/^# table: [^ ]* \([0-9]*\) \(.*\)$/\2 \1/p" MANIFEST >expect &&
	test "$(wc -l <expect)" -gt 5 &&
	while read -r t n; do
		echo "$t $(pg_psql -d new_host -Atc "SELECT count(*) FROM $t")"
	done <expect >actual &&
	test_cmp expect actual
'

test_expect_success 'full tables are identical to the lost host'"'"'s' '
	for t in users organizations system_settings; do
		pg_psql -Atc "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >a.$t &&
		pg_psql -d new_host -Atc "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >b.$t &&
		test -s a.$t &&
		test_cmp a.$t b.$t || return 1
	done
'

test_done
