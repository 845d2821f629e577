#!/bin/bash
# bk-unpack's command line beyond the common conventions of t0010: what goes
# with what, and a file that is not a sound archive changes nothing.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-unpack: usage and bad input'

test_expect_success 'no archive, or two, is a usage error' '
	test_expect_code 2 bk-unpack -C dest >stdout 2>err &&
	test ! -s stdout &&
	grep -q "^bk-unpack: missing archive: give the path of a backup (.tar.gz or .tar.gz.age)$" err &&
	test_expect_code 2 bk-unpack -C dest a.tar.gz b.tar.gz 2>err &&
	grep -q "^bk-unpack: one archive at a time$" err &&
	test_path_is_missing dest
'

test_expect_success '--replace needs --restore, --force needs a directory' '
	test_expect_code 2 bk-unpack --replace -C dest x.tar.gz 2>err &&
	grep -q "^bk-unpack: --replace goes with --restore$" err &&
	test_expect_code 2 bk-unpack --force --restore x.tar.gz 2>err &&
	grep -q "^bk-unpack: --force goes with -C DIR or --config-to DIR$" err &&
	test_expect_code 2 bk-unpack -C "" x.tar.gz 2>err &&
	grep -q "^bk-unpack: empty directory name$" err
'

test_expect_success 'a missing archive fails, nothing is created' '
	test_expect_code 1 bk-unpack -C dest --config-to cfg missing.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: .*missing.tar.gz" err &&
	test_path_is_missing dest &&
	test_path_is_missing cfg
'

test_expect_success 'a file that is not an archive fails, nothing is created' '
	echo "not a tarball" >plain.tar.gz &&
	test_expect_code 1 bk-unpack -C dest --config-to cfg plain.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	grep -q "not a gzip file" err &&
	test_path_is_missing dest &&
	test_path_is_missing cfg
'

test_expect_success 'a damaged archive (one byte flipped) fails, nothing is created' '
	ar_good good.tar.gz &&
	cp good.tar.gz bad.tar.gz &&
	size=$(stat -c %s bad.tar.gz) &&
	test_flip_byte bad.tar.gz $((size / 2)) &&
	! cmp -s good.tar.gz bad.tar.gz &&
	test_expect_code 1 bk-unpack -C dest --config-to cfg bad.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: .*bad.tar.gz is not intact" err &&
	test_path_is_missing dest &&
	test_path_is_missing cfg &&
	test "$(ls -A "$BACKUP_TMPDIR")" = ""
'

test_done
