#!/bin/bash
# bk-verify on damaged and hostile archives: truncation, bit flips (gzip
# header, deflate data, CRC-32/length trailer), wrong MANIFEST, path and link
# tricks, special files, gzip bombs, non-archives. Each is exit 1 with its own
# reason, never a crash.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-verify: damaged and hostile archives'

# verify_fails ARCHIVE 'reason': exit 1 (not a signal), nothing on stdout,
# exactly that ERROR line.
verify_fails() {
	test_expect_code 1 bk-verify "$1" >out 2>err &&
	! grep -q "Sanitizer" err &&
	test ! -s out &&
	ar_reason err >actual &&
	printf '%s\n' "$2" >expect &&
	test_cmp expect actual
}

# verify_fails_like ARCHIVE 'extended regex': the same, the reason matching.
verify_fails_like() {
	test_expect_code 1 bk-verify "$1" >out 2>err &&
	! grep -q "Sanitizer" err &&
	test ! -s out &&
	ar_reason err >actual &&
	test "$(wc -l <actual)" = 1 &&
	grep -Eq "$2" actual || { cat err; return 1; }
}

# flip IN OFFSET MASK OUT: copy IN with the byte at OFFSET (negative: from the
# end) XORed with MASK.
flip() {
	/usr/bin/python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[int(sys.argv[2])] ^= int(sys.argv[3])
open(sys.argv[4], "wb").write(d)' "$@"
}

test_expect_success 'setup: a good archive, and its members as plain tar' '
	ar_good good.tar.gz &&
	bk-verify good.tar.gz >/dev/null &&
	gzip -dc good.tar.gz >good.tar &&
	cp good.tar.gz.d/MANIFEST manifest.good
'

# --- the gzip layer ---

size=$(stat -c %s "$TRASH/good.tar.gz" 2>/dev/null || echo 0)
test_expect_success 'truncated to 1 byte: not a gzip file' '
	head -c 1 good.tar.gz >cut.tar.gz &&
	verify_fails cut.tar.gz "cut.tar.gz is not a gzip file"
'

for n in 10 11 100 500 $((size / 2)) $((size - 9)) $((size - 8)) $((size - 4)) $((size - 1)); do
	test_expect_success "truncated to $n of $size bytes: archive is truncated" "
		head -c $n good.tar.gz >cut.tar.gz &&
		verify_fails_like cut.tar.gz '^archive is truncated: the gzip stream ends early( \\(in member [^ ]+\\))?\$'
	"
done

test_expect_success 'a flipped bit in the gzip magic' '
	flip good.tar.gz 1 1 f.tar.gz &&
	verify_fails f.tar.gz "f.tar.gz is not a gzip file"
'

test_expect_success 'a flipped bit in the gzip compression method' '
	flip good.tar.gz 2 1 f.tar.gz &&
	verify_fails f.tar.gz "archive is corrupt: gzip: unknown compression method"
'

test_expect_success 'a flipped bit in the gzip flags (header CRC announced)' '
	flip good.tar.gz 3 2 f.tar.gz &&
	verify_fails_like f.tar.gz "^archive is (corrupt|truncated)"
'

for off in -8 -7 -6 -5; do
	test_expect_success "a flipped bit in the CRC-32 trailer (offset $off)" "
		flip good.tar.gz $off 1 f.tar.gz &&
		verify_fails f.tar.gz 'archive is corrupt: gzip CRC-32 mismatch'
	"
done
for off in -4 -3 -2 -1; do
	test_expect_success "a flipped bit in the length trailer (offset $off)" "
		flip good.tar.gz $off 128 f.tar.gz &&
		verify_fails f.tar.gz 'archive is corrupt: gzip length mismatch'
	"
done

# Every fifth byte of the deflate data, one bit each (bytes 4-9 of the gzip
# header, time and OS, are not covered by any check and mean nothing to a
# restore). A few bits of a deflate stream change nothing (say the code length
# of a symbol never used): then the archive is intact, and must decompress to
# exactly the original tar.
test_expect_success 'a flipped bit at any offset of the deflate data is detected' '
	/usr/bin/python3 -c "
import os
d = open(\"good.tar.gz\", \"rb\").read()
os.makedirs(\"flips\", exist_ok=True)
for off in list(range(10, len(d) - 8, 5)) + [len(d) - 9]:
    f = bytearray(d)
    f[off] ^= 1
    open(\"flips/%05d.tar.gz\" % off, \"wb\").write(f)" &&
	for f in flips/*.tar.gz; do
		rc=0 && bk-verify "$f" >out 2>err || rc=$?
		if [ $rc -eq 0 ] && gzip -dc "$f" | cmp -s - good.tar; then
			echo "harmless $f" >&2
			continue
		fi
		if [ $rc -ne 1 ] || [ -s out ] || [ -z "$(ar_reason err)" ] ||
		   grep -q Sanitizer err; then
			echo "$f: exit $rc"; cat out err; exit 1
		fi
		ar_reason err
	done >reasons &&
	test $(wc -l <reasons) -gt 100 &&
	! grep -Ev "^(archive is (corrupt|truncated)|member [^ ]+: |MANIFEST |flips/[0-9]+.tar.gz is not a tar.gz archive)" reasons
'

test_expect_success 'data after the end of the gzip stream' '
	{ cat good.tar.gz && echo junk; } >f.tar.gz &&
	verify_fails f.tar.gz "archive is corrupt: data after the end of the gzip stream"
'

test_expect_success 'zero padding after the gzip stream' '
	{ cat good.tar.gz && head -c 512 /dev/zero; } >f.tar.gz &&
	verify_fails f.tar.gz "archive is corrupt: data after the end of the gzip stream"
'

# --- the tar layer ---

test_expect_success 'a tar cut short inside a member (sound gzip around it)' '
	head -c 3000 good.tar | gzip >f.tar.gz &&
	verify_fails_like f.tar.gz "^archive is truncated or corrupt: Truncated tar archive( \\(in member [^ ]+\\))?$"
'

test_expect_success 'a tar cut after a member: the missing members are named' '
	end=$(/usr/bin/python3 -c "import tarfile
t = tarfile.open(\"good.tar\")
m = t.getmember(\"MANIFEST\")
print(m.offset_data + (m.size + 511) // 512 * 512)") &&
	head -c $end good.tar | gzip >f.tar.gz &&
	verify_fails f.tar.gz "MANIFEST lists BACKUP_INFO.txt but the archive has no such member"
'

test_expect_success 'a damaged tar header checksum' '
	/usr/bin/python3 -c "
d = bytearray(open(\"good.tar\", \"rb\").read())
d[2560 + 10] ^= 1        # a later member header: its name
open(\"f.tar\", \"wb\").write(d)" &&
	gzip -c f.tar >f.tar.gz &&
	verify_fails_like f.tar.gz "^archive is truncated or corrupt: "
'

# --- MANIFEST ---

test_expect_success 'a member changed, MANIFEST not: sha256 mismatch' '
	ar_sample d1 && ar_manifest d1 &&
	sed -i "s/alice@/alicE@/" d1/users.sql &&
	ar_pack d1 f.tar.gz &&
	want=$(grep " users.sql\$" d1/MANIFEST | cut -c1-12) &&
	got=$(ar_sha d1/users.sql | cut -c1-12) &&
	verify_fails f.tar.gz "member users.sql: sha256 mismatch (expected $want..., got $got...)"
'

test_expect_success 'a member of another size than MANIFEST says' '
	ar_sample d2 && ar_manifest d2 &&
	echo more >>d2/schema.sql &&
	ar_pack d2 f.tar.gz &&
	verify_fails f.tar.gz "member schema.sql: size 184 bytes, MANIFEST lists 179"
'

test_expect_success 'a bad digest line in MANIFEST' '
	ar_sample d3 && ar_manifest d3 &&
	sed -i "7s/^\(.\{63\}\)./\1z/" d3/MANIFEST &&
	ar_pack d3 f.tar.gz &&
	bad=$(sed -n 7p d3/MANIFEST | cut -d" " -f1) &&
	verify_fails f.tar.gz "MANIFEST line 7: bad sha256 ${SQ}$bad${SQ}"
'

test_expect_success 'a truncated MANIFEST (no final newline)' '
	ar_sample d4 && ar_manifest d4 &&
	head -c -1 d4/MANIFEST >m && mv m d4/MANIFEST &&
	ar_pack d4 f.tar.gz &&
	verify_fails f.tar.gz "MANIFEST line 14: missing final newline (truncated?)"
'

test_expect_success 'a member missing from MANIFEST' '
	ar_sample d5 &&
	ar_manifest d5 BACKUP_INFO.txt schema.sql users.sql credit_transactions.csv \
		schema-post.sql .env.production ssl/cert.pem &&
	ar_pack d5 f.tar.gz &&
	verify_fails f.tar.gz "member organization.sql is not listed in MANIFEST"
'

test_expect_success 'MANIFEST lists a member the archive lacks' '
	ar_sample d6 && ar_manifest d6 &&
	ar_pack d6 f.tar.gz MANIFEST BACKUP_INFO.txt schema.sql users.sql credit_transactions.csv \
		schema-post.sql .env.production ssl ssl/cert.pem &&
	verify_fails f.tar.gz "MANIFEST lists organization.sql but the archive has no such member"
'

test_expect_success 'MANIFEST not the first member' '
	ar_pack good.tar.gz.d f.tar.gz BACKUP_INFO.txt MANIFEST schema.sql &&
	verify_fails f.tar.gz "MANIFEST is not the first member (found BACKUP_INFO.txt)"
'

test_expect_success 'no MANIFEST at all' '
	ar_pack good.tar.gz.d f.tar.gz BACKUP_INFO.txt schema.sql &&
	verify_fails f.tar.gz "MANIFEST is not the first member (found BACKUP_INFO.txt)"
'


test_expect_success 'a MANIFEST larger than 64 MiB' '
	mkdir -p d7 && cp manifest.good d7/MANIFEST &&
	yes "###############################################################" |
		head -c $(((64 << 20) + 1)) >>d7/MANIFEST &&
	ar_pack d7 f.tar.gz MANIFEST &&
	rm -r d7 &&
	verify_fails f.tar.gz "member MANIFEST is larger than 67108864 bytes"
'

test_expect_success 'an empty archive (a tar with no members)' '
	tar -cf empty.tar -T /dev/null && gzip -c empty.tar >f.tar.gz &&
	verify_fails f.tar.gz "archive has no members"
'

# --- paths and member types (python tarfile stores them as given) ---

# hostile_member 'spec line': the good members, then that one, listed in
# MANIFEST when it is a file (so only its path or type is at fault).
hostile() {
	{
		echo "file MANIFEST good.tar.gz.d/MANIFEST"
		for m in $AR_MEMBERS; do
			if [ -d "good.tar.gz.d/$m" ]; then echo "dir $m"; else echo "file $m good.tar.gz.d/$m"; fi
		done
		echo "$1"
	} | ar_tarpy f.tar.gz
}

test_expect_success 'path traversal: ../x' '
	hostile "text ../x evil" &&
	verify_fails f.tar.gz "member ../x: unsafe path"
'

test_expect_success 'path traversal inside a path: ssl/../../x' '
	hostile "text ssl/../../x evil" &&
	verify_fails f.tar.gz "member ssl/../../x: unsafe path"
'

test_expect_success 'path traversal in a long name (a pax header)' '
	long=$(printf "d%.0s/" $(seq 1 60))../../../x &&
	hostile "text $long evil" &&
	verify_fails f.tar.gz "member $long: unsafe path"
'

test_expect_success 'an absolute path' '
	hostile "text /etc/cron.d/evil evil" &&
	verify_fails f.tar.gz "member /etc/cron.d/evil: unsafe path"
'

test_expect_success 'a control character in a path is shown escaped' '
	hostile "text $(printf "a\033[2Jb") evil" &&
	verify_fails f.tar.gz "member a\\x1b[2Jb: unsafe path"
'

test_expect_success 'a symlink member' '
	hostile "symlink link /etc/passwd" &&
	verify_fails f.tar.gz "member link: a symbolic link, only regular files and directories are allowed"
'

test_expect_success 'a symlink member with a listed name' '
	hostile "symlink ssl/key.pem /etc/shadow" &&
	verify_fails f.tar.gz "member ssl/key.pem: a symbolic link, only regular files and directories are allowed"
'

test_expect_success 'a hardlink member' '
	hostile "hardlink hard users.sql" &&
	verify_fails f.tar.gz "member hard: a hard link, only regular files and directories are allowed"
'

test_expect_success 'a hardlink to an outside path' '
	hostile "hardlink hard /etc/passwd" &&
	verify_fails f.tar.gz "member hard: a hard link, only regular files and directories are allowed"
'

test_expect_success 'a fifo member' '
	hostile "fifo pipe" &&
	verify_fails f.tar.gz "member pipe: not a regular file or directory (device, fifo or sparse file), only regular files and directories are allowed"
'

test_expect_success 'a character device member' '
	hostile "chardev null" &&
	verify_fails f.tar.gz "member null: not a regular file or directory (device, fifo or sparse file), only regular files and directories are allowed"
'

test_expect_success 'MANIFEST twice' '
	hostile "file MANIFEST good.tar.gz.d/MANIFEST" &&
	verify_fails f.tar.gz "member MANIFEST appears twice"
'

test_expect_success 'a member twice' '
	hostile "file users.sql good.tar.gz.d/users.sql" &&
	verify_fails f.tar.gz "member users.sql appears twice in the archive"
'

test_expect_success 'a directory that holds no listed file' '
	hostile "dir etc" &&
	verify_fails f.tar.gz "member etc: a directory holding no file listed in MANIFEST"
'

test_expect_success 'a directory twice' '
	hostile "dir ssl" &&
	verify_fails f.tar.gz "member ssl: directory appears twice"
'

test_expect_success 'a sparse member (GNU tar), even when MANIFEST lists it' '
	rm -rf sp && cp -r good.tar.gz.d sp &&
	truncate -s 4M sp/users.sql &&
	printf "COPY t (a) FROM stdin;\n\\\\.\n" | dd of=sp/users.sql conv=notrunc 2>/dev/null &&
	ar_manifest sp &&
	tar --format=pax --sparse --no-recursion -C sp -czf f.tar.gz MANIFEST $AR_MEMBERS &&
	verify_fails f.tar.gz "member users.sql: not a regular file or directory (device, fifo or sparse file), only regular files and directories are allowed"
'

# --- bombs and huge sizes ---

test_expect_success 'a gzip bomb member: 100 MB of zeros listed as 10 bytes, stops early' '
	mkdir -p b1 && head -c 10 /dev/zero >b1/bomb.bin &&
	ar_manifest b1 bomb.bin &&
	printf "%s\n" "file MANIFEST b1/MANIFEST" "zeros bomb.bin 104857600" | ar_tarpy f.tar.gz &&
	test $(stat -c %s f.tar.gz) -lt 1000000 &&
	test_expect_code 1 bk-verify --json f.tar.gz >out.json 2>err &&
	ar_reason err >actual &&
	echo "member bomb.bin: size 104857600 bytes, MANIFEST lists 10" >expect &&
	test_cmp expect actual &&
	/usr/bin/python3 -c "import json; t = json.load(open(\"out.json\"))[\"totals\"]; \
		assert t[\"stream_bytes\"] < 4 << 20, t"
'

test_expect_success 'a gzip bomb after the tar end: 100 MB of zeros, stops early' '
	{ cat good.tar && head -c 104857600 /dev/zero; } | gzip -1 >f.tar.gz &&
	test_expect_code 1 bk-verify --json f.tar.gz >out.json 2>err &&
	ar_reason err >actual &&
	grep -Eq "^archive unpacks to more than [0-9]+ bytes, more than its MANIFEST accounts for \(gzip bomb\?\)$" actual &&
	/usr/bin/python3 -c "import json; t = json.load(open(\"out.json\"))[\"totals\"]; \
		assert t[\"stream_bytes\"] < 4 << 20, t"
'

test_expect_success 'a bomb before MANIFEST: a huge first member' '
	printf "%s\n" "zeros MANIFEST 104857600" | ar_tarpy f.tar.gz &&
	test_expect_code 1 bk-verify --json f.tar.gz >out.json 2>err &&
	ar_reason err >actual &&
	echo "member MANIFEST is larger than 67108864 bytes" >expect &&
	test_cmp expect actual &&
	/usr/bin/python3 -c "import json; t = json.load(open(\"out.json\"))[\"totals\"]; \
		assert t[\"stream_bytes\"] < 4 << 20, t"
'

test_expect_success 'MANIFEST declaring a huge size for a small member' '
	ar_sample d8 && ar_manifest d8 &&
	sed -i "s/ 300 4 users.sql\$/ 999999999999 4 users.sql/" d8/MANIFEST &&
	ar_pack d8 f.tar.gz &&
	verify_fails f.tar.gz "member users.sql: size 300 bytes, MANIFEST lists 999999999999"
'

# --- not archives at all ---

test_expect_success 'a text file' '
	echo "hello" >f.tar.gz &&
	verify_fails f.tar.gz "f.tar.gz is not a gzip file"
'

test_expect_success 'an empty file' '
	: >f.tar.gz &&
	verify_fails f.tar.gz "f.tar.gz is empty, not a backup archive"
'

test_expect_success 'gzip of something that is not tar' '
	echo "hello world" | gzip >f.tar.gz &&
	verify_fails f.tar.gz "f.tar.gz is not a tar.gz archive: Unrecognized archive format"
'

test_expect_success 'a zip file' '
	/usr/bin/python3 -c "import zipfile; zipfile.ZipFile(\"f.zip\", \"w\").writestr(\"MANIFEST\", \"x\")" &&
	verify_fails f.zip "f.zip is not a gzip file"
'

test_expect_success 'a missing file' '
	verify_fails nothing.tar.gz "cannot read nothing.tar.gz: No such file or directory"
'

test_expect_success 'a directory' '
	mkdir -p adir &&
	verify_fails adir "adir is not a regular file"
'

test_expect_success 'random bytes after a gzip header' '
	{ printf "\037\213\010\000\000\000\000\000\000\003" && head -c 5000 /dev/urandom; } >f.tar.gz &&
	verify_fails_like f.tar.gz "^archive is (corrupt|truncated)|^f.tar.gz is not a tar.gz archive"
'

test_done
