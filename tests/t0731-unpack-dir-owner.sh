#!/bin/bash
# bk-unpack -C DIR extracts only into a directory that is the caller's alone:
# an existing DIR owned by another user, or writable by its group or others
# (/tmp itself), is refused before anything is written, since whoever may
# write there could swap a file between extraction and restore. A new DIR
# is made 0700.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-unpack -C: only into a directory that is ours alone'

# refused DIR REASON: -C DIR (and -C DIR --dry-run) exits 1 with "DIR: REASON:
# refusing to extract into it" and a hint, DIR left as it was.
# present DIR: which of the archive's members are in DIR (not a listing of
# all of DIR: other tests work in /tmp at the same time).
present() {
	tar -tzf a.tar.gz | while read -r m; do
		[ -e "$1/$m" ] && echo "$m" && ls -la "$1/$m"
	done
	return 0
}

refused() {
	local dir=$1 reason=$2
	present "$dir" >before &&
	test_expect_code 1 bk-unpack -C "$dir" a.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	ar_reason err >reasons &&
	printf "%s\n" "$dir: $reason: refusing to extract into it" \
		"hint: give a directory that does not exist yet (it is made 0700) or one that only you can write" >expect &&
	test_cmp expect reasons &&
	present "$dir" >after &&
	test_cmp before after &&
	test_expect_code 1 bk-unpack -n -C "$dir" a.tar.gz >plan 2>err &&
	grep -q "^  would refuse: $dir: $reason: refusing to extract into it$" plan
}

test_expect_success 'setup: a good archive' '
	ar_good a.tar.gz
'

test_expect_success 'a directory writable by others is refused' '
	mkdir open && chmod 0777 open &&
	refused open "writable by its group or others (mode 0777)"
'

test_expect_success 'a directory writable by its group is refused' '
	mkdir grp && chmod 0770 grp &&
	refused grp "writable by its group or others (mode 0770)"
'

test_expect_success '/tmp itself is refused' '
	mode=$(stat -c %a /tmp) &&
	if [ "$(stat -c %u /tmp)" = "$(id -u)" ]; then
		refused /tmp "writable by its group or others (mode $(printf %04o 0$mode))"
	else
		refused /tmp "owned by $(stat -c %U /tmp) (uid $(stat -c %u /tmp)), not by the user running this (uid $(id -u))"
	fi
'

test_expect_success 'a directory owned by another user is refused (as root)' '
	if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
		echo "# skipped: needs root and user nobody"
	else
		mkdir theirs && chmod 0700 theirs && chown nobody theirs &&
		refused theirs "owned by nobody (uid $(id -u nobody)), not by the user running this (uid 0)"
	fi
'

test_expect_success 'a directory of ours, 0700 or 0755, is used' '
	mkdir mine && chmod 0700 mine &&
	bk-unpack -C mine a.tar.gz >stdout 2>err &&
	echo mine >expect && test_cmp expect stdout &&
	test_cmp a.tar.gz.d/users.sql mine/users.sql &&
	mkdir shared && chmod 0755 shared &&
	bk-unpack -C shared a.tar.gz >stdout 2>err &&
	test_cmp a.tar.gz.d/users.sql shared/users.sql
'

test_expect_success 'a new directory is made 0700' '
	bk-unpack -C new/backup a.tar.gz >stdout 2>err &&
	test "$(stat -c %a new/backup)" = 700
'

test_done
