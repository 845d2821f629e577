#!/bin/bash
# bk-verify on archives the test builds itself (tests/lib-archive.sh): a good
# one passes with its summary and JSON report; data files are parsed and their
# rows counted; size bounds are warnings; usage errors exit 2.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-verify: good archives, data files, report, size bounds'

# verify_fails ARCHIVE 'reason': exit 1, nothing on stdout, that ERROR line.
verify_fails() {
	test_expect_code 1 bk-verify "$1" >out 2>err &&
	! grep -q "Sanitizer" err &&
	test ! -s out &&
	ar_reason err >actual &&
	printf '%s\n' "$2" >expect &&
	test_cmp expect actual
}

# rebuild DIR OUT: MANIFEST (as ar_manifest computes it) and archive from DIR.
rebuild() {
	ar_manifest "$1" && ar_pack "$1" "$2"
}

test_expect_success 'setup: a good archive' '
	ar_good good.tar.gz &&
	test_path_is_file good.tar.gz
'

test_expect_success 'a good archive is intact: exit 0 and the summary on stdout' '
	bk-verify good.tar.gz >out 2>err &&
	size=$(stat -c %s good.tar.gz) &&
	shown=$(awk -v n="$size" "BEGIN { if (n < 1024) printf \"%d B\", n; else if (n < 10189) printf \"%.1f KB\", n / 1024; else printf \"%.0f KB\", n / 1024 }") &&
	sed -E "s/ \([0-9.]+ [KM]?B unpacked\)/ (U unpacked)/" out >actual &&
	echo "OK good.tar.gz: 10 members, 9 rows, $shown (U unpacked), unsigned" >expect &&
	test_cmp expect actual &&
	! grep " ERROR " err
'

test_expect_success 'the log says what was verified' '
	bk-verify good.tar.gz >out 2>err &&
	grep -q "INFO bk-verify\[[0-9]*\]: good.tar.gz is intact: 9 files, 9 rows, " "$BACKUP_LOG"
'

test_expect_success '--json: one JSON object with members, rows and totals' '
	bk-verify --json good.tar.gz >out.json 2>err &&
	/usr/bin/python3 -c "import json,sys; json.load(sys.stdin)" <out.json &&
	/usr/bin/python3 - <<-\EOF
	import json
	r = json.load(open("out.json"))
	assert r["ok"] is True and r["reason"] is None, r
	assert r["archive"] == "good.tar.gz"
	got = [(m["path"], m["type"], m["rows"], m["ok"]) for m in r["members"]]
	want = [("MANIFEST", "file", None, True), ("BACKUP_INFO.txt", "file", None, True),
	        ("schema.sql", "file", None, True), ("users.sql", "file", 4, True),
	        ("organization.sql", "file", 2, True),
	        ("credit_transactions.csv", "file", 3, True),
	        ("schema-post.sql", "file", None, True), (".env.production", "file", None, True),
	        ("ssl", "directory", None, True), ("ssl/cert.pem", "file", None, True)]
	assert got == want, got
	t = r["totals"]
	assert (t["files"], t["directories"], t["rows"]) == (9, 1, 9), t
	import os
	assert t["archive_bytes"] == os.path.getsize("good.tar.gz"), t
	assert t["unpacked_bytes"] == sum(m["bytes"] for m in r["members"]), t
	EOF
'

test_expect_success '--json on a damaged archive: ok false, the reason, exit 1' '
	cp good.tar.gz.d/MANIFEST m.orig &&
	ar_sample d1 && ar_manifest d1 &&
	printf "x" >>d1/users.sql &&
	ar_pack d1 bad.tar.gz &&
	test_expect_code 1 bk-verify --json bad.tar.gz >out.json 2>err &&
	/usr/bin/python3 - <<-\EOF
	import json, re
	r = json.load(open("out.json"))
	err = open("err").read()
	assert r["ok"] is False, r
	assert r["reason"] == "member users.sql: size 301 bytes, MANIFEST lists 300", r
	assert ("ERROR bk-verify[") in err and r["reason"] in err
	assert [m["path"] for m in r["members"]][-1] == "schema.sql", r
	EOF
'

test_expect_success 'size bounds: below BACKUP_MIN_SIZE_MB is a warning, not a failure' '
	bk-verify --json good.tar.gz >out.json 2>err &&
	grep -q "WARN bk-verify\[[0-9]*\]: archive is [0-9.]* [KM]\{0,1\}B, smaller than BACKUP_MIN_SIZE_MB (1 MB)$" err &&
	/usr/bin/python3 -c "import json; r = json.load(open(\"out.json\")); \
		assert r[\"ok\"] and len(r[\"warnings\"]) == 1 and r[\"warnings\"][0].endswith(\", smaller than BACKUP_MIN_SIZE_MB (1 MB)\"), r"
'

test_expect_success 'size bounds: BACKUP_MIN_SIZE_MB=0 from --env-file, no warning' '
	echo BACKUP_MIN_SIZE_MB=0 >bk.env &&
	bk-verify --env-file bk.env --json good.tar.gz >out.json 2>err &&
	! grep " WARN " err &&
	/usr/bin/python3 -c "import json; assert json.load(open(\"out.json\"))[\"warnings\"] == []"
'

test_expect_success 'size bounds: above BACKUP_MAX_SIZE_MB is a warning' '
	ar_sample big && head -c 1600000 /dev/urandom >big/noise.bin &&
	ar_manifest big $AR_MEMBERS noise.bin &&
	ar_pack big big.tar.gz MANIFEST $AR_MEMBERS noise.bin &&
	BACKUP_MIN_SIZE_MB=0 BACKUP_MAX_SIZE_MB=1 bk-verify big.tar.gz >out 2>err &&
	grep -q "WARN bk-verify\[[0-9]*\]: archive is 1.5 MB, larger than BACKUP_MAX_SIZE_MB (1 MB)$" err
'

test_expect_success 'many rows in COPY blocks and CSV are counted' '
	ar_sample many &&
	/usr/bin/python3 - <<-\EOF &&
	with open("many/users.sql", "w") as f:
	    f.write("COPY public.users (id, email, \"displayName\") FROM stdin;\n")
	    for i in range(50000):
	        f.write("%d\tu%d@example.com\tUser\\t%d\n" % (i, i, i))
	    f.write("\\.\n")
	with open("many/credit_transactions.csv", "w") as f:
	    f.write("id,amount,note,created_at\n")
	    for i in range(70000):
	        f.write("%d,%d.5,\"n,%d\nx\",2026-11-01\n" % (i, i, i))
	EOF
	rebuild many many.tar.gz &&
	bk-verify --json many.tar.gz >out.json &&
	/usr/bin/python3 -c "import json; t = json.load(open(\"out.json\"))[\"totals\"]; \
		assert t[\"rows\"] == 50000 + 2 + 70000, t"
'

test_expect_success 'UTF-8 member names (pax headers) pass and the JSON stays valid' '
	ar_sample thai &&
	printf "x\n" >"thai/ssl/ใบรับรอง.pem" &&
	ar_manifest thai $AR_MEMBERS "ssl/ใบรับรอง.pem" &&
	ar_pack thai thai.tar.gz MANIFEST $AR_MEMBERS "ssl/ใบรับรอง.pem" &&
	bk-verify --json thai.tar.gz >out.json &&
	/usr/bin/python3 -c "import json; r = json.load(open(\"out.json\", encoding=\"utf-8\")); \
		assert r[\"members\"][-1][\"path\"] == \"ssl/ใบรับรอง.pem\", r"
'

test_expect_success 'concatenated gzip members are one stream' '
	ar_sample cat && ar_manifest cat &&
	tar --format=pax --no-recursion -C cat -cf cat.tar MANIFEST $AR_MEMBERS &&
	head -c 3000 cat.tar | gzip >cat.tar.gz &&
	tail -c +3001 cat.tar | gzip >>cat.tar.gz &&
	bk-verify cat.tar.gz >out
'

test_expect_success 'an archive written by libarchive (python tarfile) passes' '
	ar_sample py && ar_manifest py &&
	for m in MANIFEST $AR_MEMBERS; do
		if [ -d "py/$m" ]; then echo "dir $m"; else echo "file $m py/$m"; fi
	done >list &&
	ar_tarpy py.tar.gz <list &&
	bk-verify py.tar.gz >out
'

# Data files: every COPY row and CSV record is checked.
test_expect_success 'a .sql file with an unterminated COPY block' '
	ar_sample d2 &&
	printf "SET x = 1;\nCOPY public.users (id, email, \"displayName\") FROM stdin;\n1\ta\tb\n2\tc\td\n" \
		>d2/users.sql &&
	rebuild d2 d2.tar.gz &&
	verify_fails d2.tar.gz \
		"member users.sql: line 5: unterminated COPY block for public.users (started on line 2, no ${SQ}\\.${SQ} line)"
'

test_expect_success 'a COPY row with a missing field' '
	ar_sample d3 &&
	printf "COPY public.users (id, email, \"displayName\") FROM stdin;\n1\ta\tb\n2\tc\n\\\\.\n" \
		>d3/users.sql &&
	rebuild d3 d3.tar.gz &&
	verify_fails d3.tar.gz \
		"member users.sql: line 3: row has 2 fields, COPY public.users lists 3 columns"
'

test_expect_success 'a COPY row with an invalid escape' '
	ar_sample d4 &&
	printf "COPY public.organizations (id, name) FROM stdin;\n1\ta\\\\qb\n\\\\.\n" \
		>d4/organization.sql &&
	rebuild d4 d4.tar.gz &&
	verify_fails d4.tar.gz \
		"member organization.sql: line 2: invalid escape ${SQ}\\q${SQ} in COPY data of public.organizations"
'

test_expect_success 'a .sql row count different from MANIFEST' '
	ar_sample d5 && ar_manifest d5 &&
	sed -i "s/ 4 users.sql\$/ 5 users.sql/" d5/MANIFEST &&
	ar_pack d5 d5.tar.gz &&
	verify_fails d5.tar.gz "member users.sql: 4 rows, MANIFEST lists 5"
'

test_expect_success 'per-table rows: a COPY block against its "# table:" line' '
	ar_sample d10 && ar_manifest d10 &&
	sed -i "1a # table: users.sql 4 public.users\\n# table: organization.sql 2 public.organizations\\n# table: users.sql 9 public.other" \
		d10/MANIFEST &&
	ar_pack d10 d10.tar.gz &&
	bk-verify d10.tar.gz >out &&
	sed -i "s/^# table: users.sql 4 public.users\$/# table: users.sql 5 public.users/" d10/MANIFEST &&
	grep -q "^# table: users.sql 5 public.users\$" d10/MANIFEST &&
	ar_pack d10 d10.tar.gz &&
	verify_fails d10.tar.gz "member users.sql: COPY public.users has 4 rows, MANIFEST lists 5"
'

test_expect_success 'a CSV row count different from MANIFEST' '
	ar_sample d6 && ar_manifest d6 &&
	sed -i "s/ 3 credit_transactions.csv\$/ 4 credit_transactions.csv/" d6/MANIFEST &&
	ar_pack d6 d6.tar.gz &&
	verify_fails d6.tar.gz "member credit_transactions.csv: 3 rows, MANIFEST lists 4"
'

test_expect_success 'a CSV record with a field too many' '
	ar_sample d7 &&
	printf "id,amount\n1,2\n3,4,5\n" >d7/credit_transactions.csv &&
	rebuild d7 d7.tar.gz &&
	verify_fails d7.tar.gz \
		"member credit_transactions.csv: line 3: record has 3 fields, the header has 2"
'

test_expect_success 'a CSV with an unterminated quoted field' '
	ar_sample d8 &&
	printf "id,note\n1,\"open\n2,x\n" >d8/credit_transactions.csv &&
	rebuild d8 d8.tar.gz &&
	verify_fails d8.tar.gz \
		"member credit_transactions.csv: line 4: unterminated quoted field (opened on line 2)"
'

test_expect_success 'schema files and config files are hashed, not parsed' '
	ar_sample d9 &&
	printf "COPY unterminated (a) FROM stdin;\n" >d9/schema.sql &&
	printf "COPY x (a) FROM stdin;\n" >d9/ssl/cert.pem &&
	rebuild d9 d9.tar.gz &&
	bk-verify d9.tar.gz >out
'

test_expect_success 'usage: no archive, two archives, a bad option: exit 2' '
	test_expect_code 2 bk-verify >out 2>err &&
	test ! -s out &&
	printf "%s\n" "bk-verify: missing archive: give the path of a backup (.tar.gz or .tar.gz.age)" \
		"Try ${SQ}bk-verify --help${SQ} for more information." >expect &&
	test_cmp expect err &&
	test_expect_code 2 bk-verify a.tar.gz b.tar.gz 2>err &&
	grep -q "^bk-verify: unexpected argument ${SQ}b.tar.gz${SQ}$" err &&
	test_expect_code 2 bk-verify --jsn good.tar.gz 2>err
'

test_expect_success '--help mirrors the man page synopsis' '
	bk-verify --help >out &&
	grep -q "^usage: bk-verify \[--json\] \[-i IDENTITY\] \[--verify-key FILE\]$" out &&
	grep -q "^                 \[--env-file FILE\] FILE$" out &&
	grep -q "^\.B bk-verify$" "$BK_ROOT/man/bk-verify.1" &&
	grep -q "^\.RB \[ \\\\-\\\\-json \]" "$BK_ROOT/man/bk-verify.1"
'

test_done
