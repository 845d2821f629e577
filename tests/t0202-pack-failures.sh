#!/bin/bash
# bk-pack fails cleanly: a data file changed or truncated since the export,
# an output directory it cannot write, a full disk, an interrupt. Each is
# exit 1 with the reason, and no file is left under the final name or the
# temporary one.

. "$(dirname "$0")/lib.sh"
test_description 'bk-pack failures leave nothing behind'

# make_export DIR [BIGFILE_BYTES]: a small export directory as bk-export
# leaves it; with BIGFILE_BYTES, a big.csv of random bytes too.
make_export() {
	mkdir -p "$1" && (
		cd "$1" &&
		printf 'CREATE TABLE public.users (id integer);\n' >schema.sql &&
		printf 'COPY public.users (id) FROM stdin;\n1\n2\n\\.\n' >users.sql &&
		printf 'id,amount\n1,10\n2,20\n3,30\n' >credit_transactions.csv &&
		files="schema.sql:- users.sql:2 credit_transactions.csv:3" &&
		if [ -n "${2:-}" ]; then
			head -c "$2" /dev/urandom >big.csv &&
			files="$files big.csv:1"
		fi &&
		{
			echo "# format: bk 1"
			echo "# database: smart_ai_hub"
			for f in $files; do
				echo "$(sha256sum <"${f%%:*}" | cut -c1-64) $(stat -c %s "${f%%:*}") ${f##*:} ${f%%:*}"
			done
		} >MANIFEST
	)
}

# nothing_in DIR: DIR is empty (no archive, no temporary file).
nothing_in() {
	ls -A "$1" >"$TRASH/left" &&
	if [ -s "$TRASH/left" ]; then
		echo "left in $1:"; cat "$TRASH/left"; return 1
	fi
}

export BACKUP_CONFIG_FILES='.env.production'

test_expect_success 'setup' '
	make_export exp &&
	mkdir -p config out &&
	echo A=1 >config/.env.production
'

test_expect_success 'a data file changed after the export (same size): exit 1, no archive' '
	cp -r exp changed &&
	printf "COPY public.users (id) FROM stdin;\n1\n3\n\\\\.\n" >changed/users.sql &&
	cmp -s exp/users.sql changed/users.sql && exit 1 || :
	test "$(stat -c %s exp/users.sql)" = "$(stat -c %s changed/users.sql)" &&
	test_expect_code 1 bk-pack changed >stdout 2>err &&
	test ! -s stdout &&
	grep "ERROR bk-pack\[[0-9]*\]: changed/users.sql changed since MANIFEST was written: its sha256 differs$" err &&
	nothing_in "$BACKUP_DIR"
'

test_expect_success 'a truncated data file: exit 1 before anything is written' '
	cp -r exp short &&
	truncate -s 10 short/credit_transactions.csv &&
	test_expect_code 1 bk-pack -o "$TRASH/out/s.tar.gz" short >stdout 2>err &&
	test ! -s stdout &&
	grep "short/credit_transactions.csv changed since MANIFEST was written: 10 bytes, MANIFEST says 25$" err &&
	nothing_in out
'

test_expect_success 'a grown data file: exit 1' '
	cp -r exp grown &&
	echo 4,40 >>grown/credit_transactions.csv &&
	test_expect_code 1 bk-pack -o "$TRASH/out/g.tar.gz" grown >stdout 2>err &&
	grep "grown/credit_transactions.csv changed since MANIFEST was written: 30 bytes, MANIFEST says 25$" err &&
	nothing_in out
'

test_expect_success 'a data file replaced by a symlink: exit 1' '
	cp -r exp linked &&
	mv linked/users.sql users.sql.moved &&
	ln -s "$TRASH/users.sql.moved" linked/users.sql &&
	test_expect_code 1 bk-pack -o "$TRASH/out/l.tar.gz" linked >stdout 2>err &&
	grep "linked/users.sql is not a regular file" err &&
	nothing_in out
'

test_expect_success 'a change found only at the end of a big file aborts the archive' '
	make_export bigexp 3000000 &&
	printf "\\0" | dd of=bigexp/big.csv bs=1 seek=2999999 conv=notrunc 2>/dev/null &&
	printf "\\1" | dd of=bigexp/big.csv bs=1 seek=2999998 conv=notrunc 2>/dev/null &&
	grep -q "$(sha256sum <bigexp/big.csv | cut -c1-64)" bigexp/MANIFEST && exit 1 || :
	test_expect_code 1 bk-pack -o "$TRASH/out/b.tar.gz" bigexp >stdout 2>err &&
	grep "bigexp/big.csv changed since MANIFEST was written: its sha256 differs$" err &&
	grep "packed users.sql" err &&
	nothing_in out
'

test_expect_success 'an output path under a regular file: exit 1' '
	echo x >plain &&
	test_expect_code 1 bk-pack -o "$TRASH/plain/sub/a.tar.gz" exp >stdout 2>err &&
	test ! -s stdout &&
	grep "ERROR bk-pack\[[0-9]*\]: cannot create $TRASH/plain/sub/a.tar.gz: Not a directory$" err
'

# Root ignores permission bits: a read-only mount says "not writable" to
# everyone. A tiny tmpfs is a full disk.
can_mount=
mount_reason="not root: cannot mount a tmpfs"
if [ "$(id -u)" = 0 ]; then
	mkdir -p ro full
	if mount -t tmpfs -o ro,size=64k tmpfs "$TRASH/ro" 2>mount.err; then
		test_atexit "umount '$TRASH/ro'"
		if mount -t tmpfs -o size=64k tmpfs "$TRASH/full" 2>>mount.err; then
			test_atexit "umount '$TRASH/full'"
			can_mount=1
		fi
	fi
	[ -n "$can_mount" ] || mount_reason="mount -t tmpfs failed: $(head -n 1 mount.err)"
fi

if [ "$(id -u)" != 0 ]; then
	test_expect_success 'an output directory that is not writable: exit 1, nothing left' '
		mkdir -p ro && chmod 555 ro &&
		test_expect_code 1 bk-pack -o "$TRASH/ro/a.tar.gz" exp >stdout 2>err &&
		test ! -s stdout &&
		grep "cannot create a file in the directory of $TRASH/ro/a.tar.gz: Permission denied" err &&
		nothing_in ro
	'
elif [ -n "$can_mount" ]; then
	test_expect_success 'an output directory that is not writable: exit 1, nothing left' '
		BACKUP_DIR=$TRASH/ro test_expect_code 1 bk-pack exp >stdout 2>err &&
		test ! -s stdout &&
		grep "cannot create a file in the directory of $TRASH/ro/critical_backup_[0-9_]*.tar.gz: Read-only file system" err &&
		nothing_in ro
	'
else
	test_skip 'an output directory that is not writable' "$mount_reason"
fi

if [ -n "$can_mount" ]; then
	test_expect_success 'disk full: exit 1 "disk full", no file under either name' '
		make_export fullexp 1000000 &&
		BACKUP_DIR=$TRASH/full test_expect_code 1 bk-pack fullexp >stdout 2>err &&
		test ! -s stdout &&
		grep "ERROR bk-pack\[[0-9]*\]: disk full: cannot write $TRASH/full/critical_backup_[0-9_]*\.tar\.gz$" err &&
		grep "ERROR bk-pack\[[0-9]*\]: hint: make room in $TRASH/full" err &&
		nothing_in full
	'

	test_expect_success 'disk full with -o, and the disk still usable afterwards' '
		test_expect_code 1 bk-pack -o "$TRASH/full/x.tar.gz" fullexp >stdout 2>err &&
		grep "disk full: cannot write $TRASH/full/x.tar.gz$" err &&
		nothing_in full &&
		bk-pack -o "$TRASH/full/small.tar.gz" exp >stdout 2>err &&
		gzip -t full/small.tar.gz
	'
else
	test_skip 'disk full' "$mount_reason"
fi

# A 16 GiB sparse file takes long enough to pack that the signal arrives
# while it is streamed; its digest in MANIFEST is wrong on purpose, so a
# signal that is ignored ends in a different message.
test_expect_success 'SIGTERM while packing: exit 1 "interrupted", nothing left' '
	mkdir -p huge int &&
	cp exp/schema.sql huge/ &&
	truncate -s 16G huge/zero.csv &&
	{
		echo "# format: bk 1"
		echo "$(sha256sum <huge/schema.sql | cut -c1-64) $(stat -c %s huge/schema.sql) - schema.sql"
		echo "$(printf "%064d" 0) $(stat -c %s huge/zero.csv) 0 zero.csv"
	} >huge/MANIFEST &&
	: >sig.err &&
	{ bk-pack -o "$TRASH/int/a.tar.gz" huge >stdout 2>sig.err & pid=$!; } &&
	until grep -q "packed schema.sql" sig.err; do
		kill -0 $pid || break
		sleep 0.05
	done &&
	kill -TERM $pid &&
	rc=0 && { wait $pid || rc=$?; } &&
	cat sig.err &&
	test "$rc" = 1 &&
	grep "ERROR bk-pack\[[0-9]*\]: interrupted; $TRASH/int/a.tar.gz not written" sig.err &&
	nothing_in int
'

test_done
