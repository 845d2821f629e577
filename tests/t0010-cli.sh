#!/bin/bash
# Every program: --help on stdout (exit 0, no line over 80 columns), --version,
# a bad option is one line plus the hint (exit 2), a bad variable exits 2 naming it.
. "$(dirname "$0")/lib.sh"
test_description 'command-line conventions of every program'

programs="bk-export bk-pack bk-verify bk-mail bk-monitor bk-prune bk-unpack bk-run"

for p in $programs; do
	test_expect_success "$p --help: stdout only, exit 0, at most 80 columns" "
		$p --help >out 2>err &&
		test ! -s err &&
		grep -q '^usage: $p' out &&
		! grep -q '.\{81\}' out
	"
	test_expect_success "$p --version" "
		$p --version >out &&
		grep -q '^$p (bk) [0-9]' out
	"
	test_expect_success "$p: unknown option is exit 2 with one line and a hint" "
		test_expect_code 2 $p --no-such-option >out 2>err &&
		test ! -s out &&
		printf '%s\n' \"$p: unknown option --no-such-option\" \
			\"Try '$p --help' for more information.\" >expect &&
		test_cmp expect err
	"
done

# Arguments that get each program past option parsing to loading the configuration.
args_for() {
	case $1 in
	bk-export) echo "-o out" ;;
	bk-pack|bk-verify|bk-unpack) echo "nothing.tar.gz" ;;
	bk-mail) echo "--test" ;;
	bk-prune) echo "--dry-run" ;;
	bk-run) echo "--no-mail" ;;
	esac
}

for p in $programs; do
	test_expect_success "$p: a malformed variable is exit 2 naming it" "
		POSTGRES_PORT=abc test_expect_code 2 $p $(args_for $p) >out 2>err &&
		grep -q \"configuration: POSTGRES_PORT: 'abc' is not a whole number\" err
	"
done

test_expect_success 'bk-run: a malformed variable stops it at start, naming the variable' '
	BACKUP_RETENTION_DAYS=-1 test_expect_code 2 bk-run --no-mail 2>err &&
	grep -q "ERROR bk-run\[[0-9]*\]: configuration: BACKUP_RETENTION_DAYS: -1 is out of range" err
'

test_expect_success 'an env file with a syntax error names file and line' '
	printf "A=1\nthis is not an assignment\n" >bad.env &&
	test_expect_code 2 bk-run --env-file bad.env 2>err &&
	grep -q "configuration: bad.env:2: expected NAME=VALUE" err
'

test_done
