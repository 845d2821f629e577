#!/bin/bash
# One command line: -n is a dry run in every program that has one (and
# unknown elsewhere); an option error says which error it is; a missing
# archive has one wording; a missing config file names its directory.
. "$(dirname "$0")/lib.sh"
test_description 'command line: -n, option errors, missing operands'

programs="bk-export bk-pack bk-verify bk-mail bk-monitor bk-prune bk-unpack bk-run"
dry_run_programs="bk-prune bk-run bk-unpack"

hint() {
	printf '%s\n' "$1: $2" "Try '$1 --help' for more information."
}

for p in $programs; do
	case " $dry_run_programs " in
	*" $p "*)
		test_expect_success "$p: -n is documented as --dry-run" "
			$p --help >out &&
			grep -q '^  -n, --dry-run ' out
		"
		;;
	*)
		test_expect_success "$p: -n is unknown (it has no dry run)" "
			test_expect_code 2 $p -n >out 2>err &&
			test ! -s out &&
			hint $p 'unknown option -n' >expect &&
			test_cmp expect err
		"
		;;
	esac
done

# bk-run -n once ran a real backup (it was --no-mail): now it is the dry run,
# which writes nothing, not even BACKUP_DIR. Without a database the dry run
# fails at the connection (exit 1), still having written nothing.
test_expect_success 'bk-run -n is the dry run: no archive, no BACKUP_DIR' '
	ADMIN_EMAILS=admin@example.org BACKUP_MAIL_OUTBOX=$TRASH/outbox BACKUP_DIR=$TRASH/never POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=$(test_free_port) \
		test_expect_code 1 bk-run -n >out 2>err &&
	test ! -s out &&
	grep -q "dry run: database" err &&
	test_path_is_missing "$TRASH/never" &&
	test_path_is_missing "$TRASH/outbox"
'

test_expect_success 'bk-run: --no-mail has no short form now' '
	bk-run --help >out &&
	grep -q "^      --no-mail " out &&
	! grep -q -- "-n, --no-mail" out
'

test_expect_success 'a long option missing its argument says so' '
	test_expect_code 2 bk-export --output >out 2>err &&
	hint bk-export "option --output needs an argument" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-monitor --prometheus 2>err &&
	hint bk-monitor "option --prometheus needs an argument" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-run --env-file 2>err &&
	hint bk-run "option --env-file needs an argument" >expect &&
	test_cmp expect err
'

test_expect_success 'a short option missing its argument says so' '
	test_expect_code 2 bk-pack -o 2>err &&
	hint bk-pack "option -o needs an argument" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-unpack -C 2>err &&
	hint bk-unpack "option -C needs an argument" >expect &&
	test_cmp expect err
'

test_expect_success 'bk-fetch too: -o and --output without a file say so' '
	test_expect_code 2 bk-fetch -o 2>err &&
	hint bk-fetch "option -o needs an argument" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-fetch --output 2>err &&
	hint bk-fetch "option --output needs an argument" >expect &&
	test_cmp expect err
'

test_expect_success 'an abbreviation of several long options names them; of one, it is that one' '
	test_expect_code 2 bk-unpack --re a.tar.gz 2>err &&
	hint bk-unpack "option --re is ambiguous: --restore, --replace, --replace-all" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-mail --rec 2>err &&
	hint bk-mail "option --rec needs an argument" >expect &&
	test_cmp expect err
'

test_expect_success 'an unknown option says unknown, long or short, without its value' '
	test_expect_code 2 bk-mail --frob 2>err &&
	hint bk-mail "unknown option --frob" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-mail --frob=1 2>err &&
	test_cmp expect err &&
	test_expect_code 2 bk-verify -x a.tar.gz 2>err &&
	hint bk-verify "unknown option -x" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-prune -nx 2>err &&
	hint bk-prune "unknown option -x" >expect &&
	test_cmp expect err
'

test_expect_success 'a value given to an option that takes none' '
	test_expect_code 2 bk-run --dry-run=yes 2>err &&
	hint bk-run "option --dry-run takes no argument" >expect &&
	test_cmp expect err
'

archive_missing="missing archive: give the path of a backup (.tar.gz or .tar.gz.age)"
for cmd in bk-verify bk-unpack "bk-unpack --restore" "bk-mail --backup" "bk-mail -b"; do
	test_expect_success "$cmd: a missing archive, in the one wording" "
		test_expect_code 2 $cmd >out 2>err &&
		test ! -s out &&
		hint ${cmd%% *} '$archive_missing' >expect &&
		test_cmp expect err
	"
done

test_expect_success 'bk-pack: a missing export directory, in the same shape' '
	test_expect_code 2 bk-pack 2>err &&
	hint bk-pack "missing export directory: give the directory bk-export made" >expect &&
	test_cmp expect err
'

test_expect_success 'a missing config file: the warning names BACKUP_CONFIG_DIR and its path' '
	mkdir -p exp cfg &&
	printf "CREATE TABLE t (id int);\n" >exp/schema.sql &&
	{
		echo "# format: bk 1" &&
		echo "$(sha256sum <exp/schema.sql | cut -c1-64) $(stat -c %s exp/schema.sql) - schema.sql"
	} >exp/MANIFEST &&
	echo "A=1" >cfg/.env.production &&
	BACKUP_CONFIG_DIR=$TRASH/cfg BACKUP_CONFIG_FILES=".env.production nginx.prod.conf" \
		bk-pack -o "$TRASH/a.tar.gz" exp >out 2>err &&
	grep -F "WARN bk-pack[" err >warn &&
	grep -F "]: config file nginx.prod.conf missing in $TRASH/cfg (BACKUP_CONFIG_DIR)" warn
'

test_done
