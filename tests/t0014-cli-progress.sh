#!/bin/bash
# Progress on a terminal (a pseudo-terminal from script(1)): bk-run draws one
# updating line (step, MB of the estimate, rate, ETA) instead of the per-table
# lines, bk-unpack --restore its phase and tables done; off a terminal the
# log lines stay as they are, and the log file never gets a "\r" line.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'progress on a terminal'

command -v script >/dev/null || test_skip_all "script (util-linux) not installed"
pg_start && pg_load_fixture || exit 1
# The size estimate comes from the catalog (relpages): analysed tables have
# one. A table of some size makes it larger than the fixture's text.
pg_query "CREATE TABLE public.bulk AS SELECT i AS id, repeat('x', 200) AS pad
	FROM generate_series(1, 20000) i; ANALYZE" >/dev/null || exit 1
export BACKUP_MIN_SIZE_MB=0

# on_tty FILE CMD...: run CMD on a pseudo-terminal, what it shows into FILE;
# its exit code is script's.
on_tty() {
	local out=$1
	shift
	script -qfec "$*" /dev/null >"$out" </dev/null
}

# A size as bk_format_size writes it (lib/core/size.h), for grep -E.
SIZE="[0-9]+(\.[0-9])? (B|KB|MB|GB)"

# The pty turns "\n" into "\r\n": the updates are the "\r\033[K" redraws.
redraws() {
	grep -a -o $'\r\033\\[K[^\r]*' "$1" | sed $'s/^\r\033\\[K//' | grep -v '^$'
}

test_expect_success 'bk-run on a terminal: a redrawn line per step, no per-table lines' '
	on_tty tty.out bk-run --no-mail &&
	redraws tty.out >lines &&
	grep -q "^export" lines &&
	grep -q "^pack" lines &&
	grep -q "^verify" lines &&
	grep -E -q "^export  [0-9]+/[0-9]+ files  $SIZE of ~$SIZE  $SIZE/s" lines &&
	grep -E -q "^pack  $SIZE of ~$SIZE  $SIZE/s" lines &&
	! grep -a -q "INFO bk-export\[" tty.out &&
	grep -a -q "INFO bk-run\[[0-9]*\]: step export done in" tty.out &&
	grep -q "INFO bk-export\[[0-9]*\]: users.sql: " "$BACKUP_LOG"
'

test_expect_success 'bk-run on a terminal: the line is gone at the end, the path is the last line' '
	tr -d "\r" <tty.out | tail -n 1 >last &&
	grep -q "^$BACKUP_DIR/critical_backup_[0-9_]*\.tar\.gz\$" last &&
	! grep -q "$(printf "\033")" last
'

test_expect_success 'the log file never gets a progress line' '
	! grep -q "$(printf "\r")" "$BACKUP_LOG" &&
	! grep -q "bk-progress" "$BACKUP_LOG"
'

test_expect_success 'off a terminal: one line per table and step, no redraws' '
	bk-run --no-mail >path 2>err &&
	! grep -q "$(printf "\r")" err &&
	! grep -q "bk-progress" err &&
	grep -q "INFO bk-export\[[0-9]*\]: users.sql: " err &&
	grep -q "INFO bk-run\[[0-9]*\]: step pack done in" err
'

test_expect_success 'bk-unpack --restore on a terminal: phases and tables done of all' '
	pg_psql -d postgres -c "CREATE DATABASE restored" &&
	n=$(grep -c "^# table: " <(tar -xzOf "$(cat path)" MANIFEST)) &&
	on_tty unpack.out env POSTGRES_DB=restored bk-unpack --restore --unsigned "$(cat path)" &&
	redraws unpack.out >lines &&
	grep -q "^verify" lines &&
	grep -q "^extract" lines &&
	grep -q "^schema" lines &&
	grep -E -q "^data  $n/$n tables  $SIZE of ~$SIZE" lines &&
	grep -q "^post-data" lines &&
	! grep -q "$(printf "\r")" "$BACKUP_LOG"
'

test_expect_success 'bk-unpack --restore off a terminal: no redraws' '
	pg_psql -d postgres -c "CREATE DATABASE restored2" &&
	POSTGRES_DB=restored2 bk-unpack --restore --unsigned "$(cat path)" >out 2>err &&
	! grep -q "$(printf "\r")" err &&
	grep -q "INFO bk-unpack\[[0-9]*\]: loaded users.sql: " err
'

test_done
