#!/bin/bash
# bk-pack's command line: --help, --version, usage errors (exit 2), and the
# export directories it refuses (exit 1) without leaving anything behind.

. "$(dirname "$0")/lib.sh"
test_description 'bk-pack usage, help and refused inputs'

# make_export DIR: a small export directory as bk-export leaves it: data
# files and a MANIFEST with their sha256, sizes and rows.
make_export() {
	mkdir -p "$1" && (
		cd "$1" &&
		printf 'CREATE TABLE public.users (id integer);\n' >schema.sql &&
		printf 'COPY public.users (id) FROM stdin;\n1\n2\n\\.\n' >users.sql &&
		printf 'id,amount\n1,10\n2,20\n3,30\n' >credit_transactions.csv &&
		printf 'ALTER TABLE public.users ADD PRIMARY KEY (id);\n' >schema-post.sql &&
		{
			echo "# format: bk 1"
			echo "# created: 2026-11-25T02:00:01+00:00"
			echo "# host: 127.0.0.1:5432"
			echo "# database: smart_ai_hub"
			echo "# server_version: 15.4"
			echo "# table: users.sql 2 public.users"
			echo "# table: credit_transactions.csv 3 public.credit_transactions"
			for f in schema.sql:- users.sql:2 credit_transactions.csv:3 schema-post.sql:-; do
				echo "$(sha256sum <"${f%%:*}" | cut -c1-64) $(stat -c %s "${f%%:*}") ${f##*:} ${f%%:*}"
			done
		} >MANIFEST
	)
}

# No configuration files unless a test asks for them.
export BACKUP_CONFIG_FILES=' '

test_expect_success 'setup' '
	make_export exp
'

test_expect_success '--help: usage on stdout, exit 0, lines of at most 80 columns' '
	bk-pack --help >out 2>err &&
	test ! -s err &&
	head -n 1 out >first &&
	echo "usage: bk-pack [-o FILE] [--env-file FILE] DIR" >expect &&
	test_cmp expect first &&
	awk "length > 80 { print; bad = 1 } END { exit bad }" out &&
	bk-pack -h >out2 2>err &&
	test_cmp out out2
'

test_expect_success '--help names every option of the man page' '
	bk-pack --help >out &&
	for o in "-o, --output FILE" "--env-file FILE" "-h, --help" "--version"; do
		grep -e "$o" out >/dev/null || { echo "missing $o"; exit 1; }
	done &&
	for o in "\\-o" "\\-\\-output" "\\-\\-env\\-file" "\\-\\-help" "\\-\\-version"; do
		grep -F -e "$o" "$BK_ROOT/man/bk-pack.1" >/dev/null ||
			{ echo "man page lacks $o"; exit 1; }
	done
'

test_expect_success '--version' '
	bk-pack --version >out 2>err &&
	test ! -s err &&
	grep -x "bk-pack (bk) [0-9][0-9.]*" out
'

test_expect_success 'no DIR: exit 2, one line and the --help hint on stderr' '
	test_expect_code 2 bk-pack >out 2>err &&
	test ! -s out &&
	printf "%s\n" "bk-pack: missing export directory: give the directory bk-export made" \
		"Try ${SQ}bk-pack --help${SQ} for more information." >expect &&
	test_cmp expect err
'

test_expect_success 'two directories, an unknown option, an empty -o: exit 2' '
	test_expect_code 2 bk-pack exp exp >out 2>err &&
	test ! -s out && grep "too many arguments" err &&
	test_expect_code 2 bk-pack --no-such-option exp >out 2>err &&
	test ! -s out && test "$(wc -l <err)" = 2 &&
	grep "^bk-pack: .*--no-such-option" err &&
	grep -x "Try ${SQ}bk-pack --help${SQ} for more information." err &&
	test_expect_code 2 bk-pack exp -o >out 2>err &&
	test ! -s out && test "$(wc -l <err)" = 2 && grep "^bk-pack: .*-o" err &&
	test_expect_code 2 bk-pack -o "" exp >out 2>err &&
	test ! -s out &&
	test_path_is_missing "$BACKUP_DIR"
'

test_expect_success 'a bad variable is exit 2 naming it' '
	BACKUP_GZIP_LEVEL=12 test_expect_code 2 bk-pack exp >out 2>err &&
	test ! -s out &&
	grep "BACKUP_GZIP_LEVEL" err &&
	test_path_is_missing "$BACKUP_DIR"
'

test_expect_success 'a missing directory: exit 1 with the reason' '
	test_expect_code 1 bk-pack nonexistent >out 2>err &&
	test ! -s out &&
	grep "ERROR bk-pack\[[0-9]*\]: cannot read export directory nonexistent: No such file or directory" err
'

test_expect_success 'DIR without MANIFEST: exit 1, clear message, no archive' '
	mkdir -p incomplete &&
	cp exp/users.sql incomplete/ &&
	test_expect_code 1 bk-pack incomplete >out 2>err &&
	test ! -s out &&
	grep "ERROR bk-pack\[[0-9]*\]: incomplete has no MANIFEST: not a complete bk-export directory$" err &&
	grep "hint: bk-export writes MANIFEST last" err &&
	test_path_is_missing "$BACKUP_DIR/critical_backup_"* &&
	grep "has no MANIFEST" "$BACKUP_LOG"
'

test_expect_success 'a malformed MANIFEST: exit 1 naming the line' '
	cp -r exp bad &&
	echo "not a manifest line" >>bad/MANIFEST &&
	test_expect_code 1 bk-pack bad >out 2>err &&
	test ! -s out &&
	grep "ERROR bk-pack\[[0-9]*\]: bad/MANIFEST: MANIFEST line 12: bad sha256 ${SQ}not${SQ}$" err
'

test_expect_success 'a file listed in MANIFEST but missing: exit 1' '
	cp -r exp gone &&
	rm gone/users.sql &&
	test_expect_code 1 bk-pack gone >out 2>err &&
	test ! -s out &&
	grep "cannot read gone/users.sql (listed in MANIFEST): No such file" err
'

test_expect_success 'a MANIFEST listing MANIFEST or BACKUP_INFO.txt is refused' '
	cp -r exp self &&
	echo "$(sha256sum <self/users.sql | cut -c1-64) 17 - BACKUP_INFO.txt" >>self/MANIFEST &&
	cp self/users.sql self/BACKUP_INFO.txt &&
	test_expect_code 1 bk-pack self >out 2>err &&
	grep "lists BACKUP_INFO.txt, a name bk-pack writes itself" err
'

test_expect_success 'an archive inside DIR is refused: exit 2' '
	test_expect_code 2 bk-pack -o exp/a.tar.gz exp >out 2>err &&
	test ! -s out &&
	grep "would be inside the export directory exp" err &&
	test_expect_code 2 bk-pack -o exp/sub/dir/a.tar.gz exp 2>err &&
	test_path_is_missing exp/sub &&
	BACKUP_DIR=$TRASH/exp/../exp/backups test_expect_code 2 bk-pack exp 2>err &&
	grep "would be inside" err &&
	ln -s exp link &&
	test_expect_code 2 bk-pack -o link/a.tar.gz exp 2>err &&
	grep "would be inside" err &&
	test_path_is_missing exp/backups &&
	test_path_is_missing exp/a.tar.gz
'

test_expect_success 'an existing -o FILE is never overwritten' '
	echo precious >taken.tar.gz &&
	test_expect_code 1 bk-pack -o taken.tar.gz exp >out 2>err &&
	test ! -s out &&
	grep "taken.tar.gz already exists; not overwritten" err &&
	echo precious >expect &&
	test_cmp expect taken.tar.gz &&
	ls -A >list &&
	! grep "^\.taken" list
'

test_expect_success 'an unsafe name in BACKUP_CONFIG_FILES: exit 2 naming the variable' '
	mkdir -p config &&
	for name in ../etc/passwd /etc/passwd MANIFEST "a/../b"; do
		BACKUP_CONFIG_FILES="ok $name" test_expect_code 2 bk-pack -o u.tar.gz exp >out 2>err &&
		test ! -s out &&
		grep "BACKUP_CONFIG_FILES: ${SQ}$name${SQ} is not a name" err &&
		test_path_is_missing u.tar.gz || exit 1
	done
'

test_expect_success '--env-file supplies the variables; stdout is the path only' '
	printf "BACKUP_DIR=%s\n" "$TRASH/from-env" >env &&
	env -u BACKUP_DIR bk-pack --env-file env exp >out 2>err &&
	test "$(wc -l <out)" = 1 &&
	grep -x "$TRASH/from-env/critical_backup_[0-9]\{8\}_[0-9]\{6\}\.tar\.gz" out &&
	test_path_is_file "$(cat out)"
'

test_expect_success 'a relative -o is printed as an absolute path' '
	bk-pack -o rel.tar.gz exp >out 2>err &&
	echo "$TRASH/rel.tar.gz" >expect &&
	test_cmp expect out
'

test_done
