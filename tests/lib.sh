# Test library for bk's shell tests, in the shape of git's t/test-lib.sh.
# A test script sources it, runs test_expect_success blocks and ends with
# test_done; the output is TAP for prove(1).  Servers come from lib-*.sh.

# Everything below runs in the caller's shell: no `set -e` here, a failing
# test must be reported, not abort the script.

TEST_DIRECTORY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || exit 1
BK_ROOT=$(cd "$TEST_DIRECTORY/.." && pwd) || exit 1
BK_BUILD_DIR=${BK_BUILD_DIR:-$BK_ROOT}
FIXTURES=$TEST_DIRECTORY/fixtures
TEST_NAME=$(basename "$0" .sh)
export TEST_DIRECTORY BK_ROOT BK_BUILD_DIR FIXTURES TEST_NAME

# Nothing from the caller's environment may configure the tools under test:
# a stray PGPASSWORD or BACKUP_DIR would make a test pass for the wrong reason.
for _v in $(compgen -e); do
	case $_v in
	BACKUP_*|POSTGRES_*|PG*|DATABASE_URL|SMTP_*|ADMIN_EMAILS|AWS_*) unset "$_v" ;;
	esac
done
unset _v

PATH=$BK_BUILD_DIR/bin:$PATH
export PATH
export LC_ALL=C.UTF-8 TZ=${BK_TEST_TZ:-UTC}

# A single quote, for test bodies (themselves in single quotes).
SQ="'"  # shellcheck disable=SC2034

test_count=0
test_failed=0
_test_atexit_cmds=()

# Run CMD (a string, eval'd) when the script exits, latest first.
test_atexit() {
	_test_atexit_cmds=("$1" "${_test_atexit_cmds[@]}")
}

_test_cleanup() {
	local c
	for c in "${_test_atexit_cmds[@]}"; do
		eval "$c" >&2 || echo "# cleanup failed: $c" >&2
	done
	_test_atexit_cmds=()
	if [ -n "${TRASH:-}" ] && [ -d "$TRASH" ]; then
		if [ "${BK_TEST_KEEP:-0}" = 1 ]; then
			echo "# kept $TRASH" >&2
		else
			rm -rf "$TRASH"
		fi
	fi
}
trap '_test_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The scratch directory must be traversable by other users: servers run as
# user postgres when the tests run as root.
TRASH=$(mktemp -d "${BK_TEST_TMPDIR:-${TMPDIR:-/tmp}}/bk-test.$TEST_NAME.XXXXXX") || {
	echo "Bail out! cannot create a scratch directory"
	exit 1
}
chmod 755 "$TRASH"
export TRASH
export BACKUP_LOG=$TRASH/backup.log
export BACKUP_DIR=$TRASH/backups
export BACKUP_TMPDIR=$TRASH/tmp
export BACKUP_CONFIG_DIR=$TRASH/config
mkdir -p "$BACKUP_TMPDIR"
cd "$TRASH" || exit 1

test_description() {
	echo "# $TEST_NAME: $*"
}

# Print the message as TAP comment lines.
test_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# test_expect_success 'title' 'body': the body runs in a subshell under
# `set -e` from $TRASH, so variables it sets do not survive it.  Its output
# is shown on failure, or always with BK_TEST_VERBOSE=1.
test_expect_success() {
	if [ $# -ne 2 ]; then
		echo "Bail out! test_expect_success needs 'title' 'body'"
		exit 1
	fi
	local out=$TRASH/.test-output rc
	test_count=$((test_count + 1))
	# Not part of an if/&&/|| list: bash would ignore set -e inside.
	(cd "$TRASH" && set -e && eval "$2") </dev/null >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $test_count - $1"
		[ "${BK_TEST_VERBOSE:-0}" = 1 ] && sed 's/^/# /' "$out"
	else
		echo "not ok $test_count - $1"
		test_diag "body exited $rc:" "$2" "output:"
		sed 's/^/#   /' "$out"
		test_failed=$((test_failed + 1))
	fi
	rm -f "$out"
	return 0
}

# Skip the whole script, e.g. when a server binary is missing; after tests
# have run, skip the rest of it (TAP allows a skip plan only up front).
test_skip_all() {
	if [ "$test_count" -gt 0 ]; then
		echo "# SKIP the remaining tests: $*"
		test_done
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# Mark one test as skipped (counts in the plan).
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count # skip $1${2:+: $2}"
}

test_done() {
	echo "1..$test_count"
	if [ "$test_failed" -gt 0 ]; then
		echo "# failed $test_failed of $test_count"
		exit 1
	fi
	exit 0
}

test_cmp() {
	diff -u "$1" "$2"
}

# These helpers run CMD as part of an || list so that the body's set -e
# does not end the test before the exit code is looked at.

# test_must_fail CMD...: CMD must exit non-zero of its own accord; death by a
# signal, "not found" (127) or "not executable" (126) are failures too.
test_must_fail() {
	local rc=0
	"$@" || rc=$?
	if [ $rc -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif [ $rc -gt 128 ]; then
		echo "test_must_fail: killed by signal $((rc - 128)): $*" >&2
		return 1
	elif [ $rc -eq 126 ] || [ $rc -eq 127 ]; then
		echo "test_must_fail: cannot run ($rc): $*" >&2
		return 1
	fi
	return 0
}

# test_expect_code N CMD...
test_expect_code() {
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	if [ $rc -ne "$want" ]; then
		echo "test_expect_code: expected $want, got $rc: $*" >&2
		return 1
	fi
	return 0
}

# test_path_is_file / _dir / _missing: say what is wrong, unlike `test -f`.
test_path_is_file() {
	[ -f "$1" ] || { echo "not a file: $1" >&2; return 1; }
}
test_path_is_dir() {
	[ -d "$1" ] || { echo "not a directory: $1" >&2; return 1; }
}
test_path_is_missing() {
	[ ! -e "$1" ] && [ ! -L "$1" ] || { echo "exists: $1" >&2; return 1; }
}

# test_poll CMD...: until CMD succeeds, every 20 ms, for at most
# $TEST_POLL_SECONDS (60) seconds: how tests wait for a condition (no sleeps
# as synchronisation).
test_poll() {
	local end=$((SECONDS + ${TEST_POLL_SECONDS:-60}))
	until "$@"; do
		if [ $SECONDS -ge $end ]; then
			echo "timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# test_ok_run NOW AGE_SECONDS BYTES: the status files and history line of a
# successful run AGE_SECONDS before NOW, and its (empty) archive in BACKUP_DIR.
test_ok_run() {
	local t=$(($1 - $2)) name
	name=critical_backup_$(date -d "@$t" +%Y%m%d_%H%M%S).tar.gz
	echo "$t" >"$BACKUP_DIR/.last_backup_success"
	echo $((($3 + 1048575) / 1048576)) >"$BACKUP_DIR/.last_backup_size_mb"
	printf '%s\tok\t%s\t60.0\t%s\t-\n' "$t" "$3" "$name" >>"$BACKUP_DIR/.backup_history"
	: >"$BACKUP_DIR/$name"
}

# test_free_port: print a TCP port on 127.0.0.1 that was free a moment ago.
test_free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# test_random_hex N: N random hex digits.
test_random_hex() {
	od -An -N"$(( ($1 + 1) / 2 ))" -tx1 /dev/urandom | tr -d ' \n' | cut -c1-"$1"
}

# test_need_programs NAME...: skip the whole file unless bin/NAME is built for
# each (a test of a program that does not exist yet says so, never passes).
test_need_programs() {
	local p
	for p in "$@"; do
		[ -x "$BK_BUILD_DIR/bin/$p" ] || test_skip_all "bin/$p is not built"
	done
}

# test_flip_byte FILE OFFSET: invert the low bit of one byte in place (a
# written constant would leave the file as it was when the byte was that).
test_flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
