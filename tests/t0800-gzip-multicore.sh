#!/bin/bash
# A gzip stream compressed on several threads (lib/archive/gzwrite.c) is one ordinary
# gzip member that gzip, GNU tar and libarchive's bsdtar read back byte for
# byte; and so is an archive that bk-pack writes on every core.

. "$(dirname "$0")/lib.sh"
test_description 'multi-core gzip streams are standard gzip'

GZ=$BK_BUILD_DIR/tests/unit/bin/test-gzwrite
[ -x "$GZ" ] || test_skip_all "$GZ not built (run make units)"

# Several MiB of rows (compressible) and of random bytes, so the stream has
# many blocks of every kind and a short tail.
mkdir -p in/sub
awk 'BEGIN { for (i = 0; i < 120000; i++)
	printf "%d\tuser%d@example.com\t2026-%02d-%02d 12:00:00+00\t%d\n",
		i, (i * 7919) % 100003, i % 12 + 1, i % 28 + 1, i % 3 }' >in/rows.tsv
head -c 3000001 /dev/urandom >in/sub/random.bin
: >in/empty
tar -cf in.tar in

# Exactly one gzip member: after the first one ends, nothing is left over.
one_member() {
	python3 - "$1" <<-\EOF
	import sys, zlib
	data = open(sys.argv[1], "rb").read()
	d = zlib.decompressobj(16 + 15)
	out = d.decompress(data)
	if not d.eof or d.unused_data:
	    sys.exit("not exactly one gzip member: eof=%s, %d bytes after it"
	             % (d.eof, len(d.unused_data)))
	EOF
}

for threads in 2 1 0; do
	test_expect_success "threads=$threads: gzip -t, zcat and one member" '
		"$GZ" --compress '$threads' 6 <in.tar >t'$threads'.tar.gz &&
		test $(wc -c <t'$threads'.tar.gz) -gt 1000000 &&
		gzip -t t'$threads'.tar.gz &&
		zcat t'$threads'.tar.gz >back.tar &&
		cmp in.tar back.tar &&
		one_member t'$threads'.tar.gz
	'
done

test_expect_success 'GNU tar lists and extracts the multi-core archive' '
	tar -tf in.tar >expect &&
	tar -tzf t2.tar.gz >actual &&
	test_cmp expect actual &&
	mkdir x &&
	tar -xzf t2.tar.gz -C x &&
	diff -r in x/in
'

if command -v bsdtar >/dev/null 2>&1; then
	test_expect_success 'libarchive (bsdtar) extracts the multi-core archive' '
		mkdir y &&
		bsdtar -xzf t2.tar.gz -C y &&
		diff -r in y/in
	'
else
	test_skip 'libarchive (bsdtar) reads the archive' 'bsdtar missing (run tools/install-deps)'
fi

test_expect_success 'levels 1 and 9 on two threads read back' '
	"$GZ" --compress 2 1 <in.tar >l1.gz &&
	"$GZ" --compress 2 9 <in.tar >l9.gz &&
	gzip -t l1.gz && gzip -t l9.gz &&
	zcat l9.gz >back9.tar && cmp in.tar back9.tar &&
	one_member l1.gz && one_member l9.gz
'

test_expect_success 'a write error is reported, not a short archive' '
	test_must_fail "$GZ" --compress 2 6 <in.tar >/dev/full 2>err &&
	echo "test-gzwrite: disk full while writing the archive" >expect &&
	test_cmp expect err
'

# bk-pack with its default threads (every core) on an export big enough for
# many blocks: a hand-made export directory, so this needs no database.
if [ -x "$BK_BUILD_DIR/bin/bk-pack" ]; then
	test_expect_success 'bk-pack writes a multi-block archive gzip and tar accept' '
		mkdir -p export config &&
		cp in/rows.tsv export/users.csv &&
		{
			echo "# format: bk 1" &&
			echo "# created: 2026-11-25T02:00:00+00:00" &&
			echo "# table: users.csv 120000 public.users" &&
			printf "%s %s 120000 users.csv\n" \
				"$(sha256sum <export/users.csv | cut -d" " -f1)" \
				"$(wc -c <export/users.csv)"
		} >export/MANIFEST &&
		bk-pack -o "$TRASH/packed.tar.gz" export >path &&
		echo "$TRASH/packed.tar.gz" >expect &&
		test_cmp expect path &&
		gzip -t packed.tar.gz &&
		one_member packed.tar.gz &&
		tar -tzf packed.tar.gz >list &&
		grep -qx users.csv list &&
		mkdir z &&
		tar -xzf packed.tar.gz -C z users.csv &&
		cmp export/users.csv z/users.csv &&
		if command -v bsdtar >/dev/null; then
			bsdtar -tzf packed.tar.gz >blist &&
			test_cmp list blist
		fi
	'
else
	test_skip 'bk-pack writes a multi-block archive gzip and tar accept' \
		'bin/bk-pack not built yet'
fi

test_done
