#!/bin/bash
# Hostile archives given to bk-unpack (-C, --config-to and --restore): path
# traversal, absolute paths, a symlink then a file through it, hard links, a
# member larger than declared, devices, a gzip bomb. Each is refused (exit 1)
# with nothing written outside the target and no target or temp files left.
# (tests/unit/test-extract.c tests the extractor itself, past bk-verify.)

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-unpack: hostile archives are refused'

# mk_manifest NAME=CONTENT...: ./MANIFEST.in listing those files.
mk_manifest() {
	local spec
	{
		echo "# format: bk 1"
		echo "# created: 2026-11-25T02:00:03+00:00"
		echo "# config: .env.production"
		for spec in "$@"; do
			printf "%s" "${spec#*=}" >content.tmp
			echo "$(ar_sha content.tmp) $(stat -c %s content.tmp) - ${spec%%=*}"
		done
	} >MANIFEST.in
	rm -f content.tmp
}

# refused ARCHIVE: every way of unpacking it fails and leaves no trace.
refused() {
	local a=$1
	test_expect_code 1 bk-unpack -C dest "$a" >stdout 2>err &&
	test ! -s stdout &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: " err &&
	test_path_is_missing dest &&
	test_expect_code 1 bk-unpack --config-to cfg "$a" >stdout 2>err &&
	test ! -s stdout &&
	test_path_is_missing cfg &&
	test_expect_code 1 bk-unpack --restore --unsigned "$a" >stdout 2>err &&
	test ! -s stdout &&
	test "$(ls -A "$BACKUP_TMPDIR")" = "" &&
	test "$(ls -A outside)" = sentinel &&
	test "$(cat outside/sentinel)" = "keep me" &&
	test_path_is_missing "$TRASH/evil"
}

test_expect_success 'setup: a sentinel directory outside every target' '
	mkdir outside && echo "keep me" >outside/sentinel &&
	echo "ENV=1" >env.in
'

test_expect_success 'path traversal (../) is refused' '
	mk_manifest a.sql=hello ../outside/evil=owned &&
	ar_tarpy trav.tar.gz <<-\EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello
	text ../outside/evil owned
	EOF
	refused trav.tar.gz
'

test_expect_success 'path traversal not listed in MANIFEST is refused' '
	mk_manifest a.sql=hello &&
	ar_tarpy trav2.tar.gz <<-\EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello
	text ../../evil owned
	EOF
	refused trav2.tar.gz
'

test_expect_success 'an absolute path is refused' '
	mk_manifest a.sql=hello &&
	ar_tarpy abs.tar.gz <<-EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello
	text $TRASH/outside/evil owned
	EOF
	refused abs.tar.gz &&
	test_path_is_missing outside/evil
'

test_expect_success 'a symlink, then a file written through it, is refused' '
	mk_manifest a.sql=hello link/evil=owned &&
	ar_tarpy sym.tar.gz <<-EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello
	symlink link $TRASH/outside
	text link/evil owned
	EOF
	refused sym.tar.gz
'

test_expect_success 'a symlink to a file that a later member would overwrite is refused' '
	mk_manifest .env.production=ENV=1 &&
	ar_tarpy sym2.tar.gz <<-EOF &&
	file MANIFEST MANIFEST.in
	symlink .env.production $TRASH/outside/sentinel
	text .env.production ENV=1
	EOF
	refused sym2.tar.gz
'

test_expect_success 'a hard link is refused' '
	mk_manifest a.sql=hello &&
	ar_tarpy hard.tar.gz <<-EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello
	hardlink h $TRASH/outside/sentinel
	EOF
	refused hard.tar.gz
'

test_expect_success 'a member larger than MANIFEST declares is refused' '
	mk_manifest a.sql=hello .env.production=ENV=1 &&
	ar_tarpy big.tar.gz <<-\EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello and a great deal more than was declared
	text .env.production ENV=1
	EOF
	refused big.tar.gz
'

test_expect_success 'a device file and a fifo are refused' '
	mk_manifest a.sql=hello &&
	ar_tarpy dev.tar.gz <<-\EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello
	chardev null
	EOF
	refused dev.tar.gz &&
	ar_tarpy fifo.tar.gz <<-\EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello
	fifo pipe
	EOF
	refused fifo.tar.gz
'

test_expect_success 'a gzip bomb (small declared, 64 MB of zeros) is refused, not unpacked' '
	mk_manifest a.sql=hello &&
	ar_tarpy bomb.tar.gz <<-\EOF &&
	file MANIFEST MANIFEST.in
	zeros a.sql 67108864
	EOF
	test "$(stat -c %s bomb.tar.gz)" -lt 1048576 &&
	refused bomb.tar.gz
'

test_expect_success 'MANIFEST not first is refused' '
	mk_manifest a.sql=hello &&
	ar_tarpy order.tar.gz <<-\EOF &&
	text a.sql hello
	file MANIFEST MANIFEST.in
	EOF
	refused order.tar.gz
'

test_expect_success 'a truncated archive is refused' '
	ar_good good.tar.gz &&
	head -c $(( $(stat -c %s good.tar.gz) * 2 / 3 )) good.tar.gz >trunc.tar.gz &&
	refused trunc.tar.gz &&
	grep -q "truncated" err
'

test_expect_success 'a MANIFEST that does not match the members is refused' '
	ar_sample wrong &&
	ar_manifest wrong &&
	echo "INSERT INTO x VALUES (1);" >>wrong/users.sql &&
	ar_pack wrong wrong.tar.gz &&
	refused wrong.tar.gz &&
	grep -q "users.sql" err
'

test_expect_success 'the same archive made sound is accepted (the refusals mean something)' '
	mk_manifest a.sql=hello .env.production=ENV=1 &&
	ar_tarpy sound.tar.gz <<-\EOF &&
	file MANIFEST MANIFEST.in
	text a.sql hello
	text .env.production ENV=1
	EOF
	bk-unpack -C dest --config-to cfg sound.tar.gz >stdout 2>err &&
	test "$(cat dest/a.sql)" = hello &&
	test "$(cat cfg/.env.production)" = ENV=1 &&
	test "$(ls -A cfg)" = .env.production
'

test_done
