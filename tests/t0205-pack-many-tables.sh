#!/bin/bash
# A database of 40,000 tables: its MANIFEST (3 MB) is over the old 1 MiB
# limit; bk-pack packs it and bk-verify checks every COPY block against its
# "# table:" line (indexed, not one scan of the MANIFEST per block). A
# MANIFEST over the documented 64 MiB limit is refused by bk-pack with the
# reason, before anything is written. No timing is asserted.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-pack and bk-verify with 40,000 tables'

N=40000

# pad_manifest FILE SIZE MEMBERS: "# note:" lines (kept by bk-pack) then the
# member lines of file MEMBERS, SIZE bytes in all.
pad_manifest() {
	/usr/bin/python3 - "$1" "$2" "$3" <<-\EOF
	import sys
	path, size = sys.argv[1], int(sys.argv[2])
	members = open(sys.argv[3]).read()
	line = "# note: " + "x" * 1000 + "\n"
	n = (size - len(members) - 200) // len(line)
	pad = size - len(members) - n * len(line) - len("# pad: \n")
	with open(path, "w") as f:
	    f.write(line * n + "# pad: " + "y" * pad + "\n" + members)
	EOF
}

test_expect_success 'setup: an export of 40,000 tables, MANIFEST over 1 MiB' '
	ar_many_tables exp $N &&
	test $(stat -c %s exp/MANIFEST) -gt 1048576 &&
	test $(grep -c "^# table: " exp/MANIFEST) = $N &&
	mkdir -p "$BACKUP_CONFIG_DIR"
'

test_expect_success 'bk-pack packs it: every member, a log line per member only for the first' '
	bk-pack -o "$TRASH/many.tar.gz" exp >out 2>err &&
	echo "$TRASH/many.tar.gz" >expect &&
	test_cmp expect out &&
	tar -tzf many.tar.gz >members &&
	test $(wc -l <members) = $((N / 2 + 5)) &&
	test "$(head -2 members | tr "\n" " ")" = "MANIFEST BACKUP_INFO.txt " &&
	test $(grep -c " INFO bk-pack\[[0-9]*\]: packed " err) -le 101
'

test_expect_success 'the archive keeps every table line' '
	tar -xzOf many.tar.gz MANIFEST >m &&
	test $(grep -c "^# table: " m) = $N
'

test_expect_success 'bk-verify checks it: every member, every row' '
	bk-verify many.tar.gz >out 2>err &&
	printf "OK many.tar.gz: %d members, %d rows\n" $((N / 2 + 5)) $N >expect &&
	sed -E "s/, [0-9.]+ [KMG]?B \([0-9.]+ [KMG]?B unpacked\), unsigned\$//" out >actual &&
	test_cmp expect actual
'

test_expect_success 'a COPY block deep in bulk.sql whose row count differs is found' '
	cp -al exp bad &&
	sed -i "s/^# table: bulk.sql 1 public.t_$N\$/# table: bulk.sql 7 public.t_$N/" bad/MANIFEST &&
	! cmp -s exp/MANIFEST bad/MANIFEST &&
	bk-pack -o "$TRASH/bad.tar.gz" bad >out 2>err &&
	test_expect_code 1 bk-verify bad.tar.gz >out 2>err &&
	ar_reason err >actual &&
	echo "member bulk.sql: COPY public.t_$N has 1 rows, MANIFEST lists 7" >expect &&
	test_cmp expect actual
'

test_expect_success 'a table file of its own whose row count differs is found' '
	rm -rf bad bad.tar.gz && cp -al exp bad &&
	sed -i "s/^# table: t_39999.sql 0 public.t_39999\$/# table: t_39999.sql 3 public.t_39999/" \
		bad/MANIFEST &&
	bk-pack -o "$TRASH/bad.tar.gz" bad >out 2>err &&
	test_expect_code 1 bk-verify bad.tar.gz >out 2>err &&
	ar_reason err >actual &&
	echo "member t_39999.sql: COPY public.t_39999 has 0 rows, MANIFEST lists 3" >expect &&
	test_cmp expect actual
'

test_expect_success 'a MANIFEST that packing would take over 64 MiB: refused, nothing written' '
	mkdir big && cp exp/schema.sql exp/schema-post.sql big/ &&
	grep -E " schema(-post)?\.sql\$" exp/MANIFEST >big/members &&
	pad_manifest big/MANIFEST $(((64 << 20) - 1)) big/members &&
	test $(stat -c %s big/MANIFEST) = $(((64 << 20) - 1)) &&
	test_expect_code 1 bk-pack -o "$TRASH/big.tar.gz" big >out 2>err &&
	test ! -s out &&
	test_path_is_missing big.tar.gz &&
	ar_reason err >actual &&
	grep -Eq "^MANIFEST would be [0-9]+ bytes, more than the 64 MiB an archive may hold \(2 files, 0 tables\)\$" actual &&
	rm -rf big
'

test_expect_success 'an export MANIFEST over 64 MiB: refused with the limit' '
	rm -rf big && mkdir big && cp exp/schema.sql big/ &&
	head -c $(((64 << 20) + 1)) /dev/zero | tr "\0" "#" >big/MANIFEST &&
	test_expect_code 1 bk-pack -o "$TRASH/big.tar.gz" big >out 2>err &&
	test_path_is_missing big.tar.gz &&
	ar_reason err >actual &&
	echo "big/MANIFEST is larger than 67108864 bytes" >expect &&
	test_cmp expect actual &&
	rm -rf big
'

test_done
