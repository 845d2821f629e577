#!/bin/bash
# What bk-pack writes: member order and metadata, modes, a gzip stream that
# gzip and tar read, members identical to their sources, a MANIFEST that
# matches them, and configuration files with their warnings.

. "$(dirname "$0")/lib.sh"
test_description 'bk-pack archive layout, metadata and configuration files'

# make_export DIR: a small export directory as bk-export leaves it.
make_export() {
	mkdir -p "$1" && (
		cd "$1" &&
		printf 'CREATE TABLE public.users (id integer);\n' >schema.sql &&
		printf 'COPY public.users (id) FROM stdin;\n1\n2\n\\.\n' >users.sql &&
		printf 'id,amount\n1,10\n2,20\n3,30\n' >credit_transactions.csv &&
		printf 'ALTER TABLE public.users ADD PRIMARY KEY (id);\n' >schema-post.sql &&
		{
			echo "# format: bk 1"
			echo "# created: 2026-11-25T02:00:01+00:00"
			echo "# host: 127.0.0.1:5432"
			echo "# database: smart_ai_hub"
			echo "# server_version: 15.4"
			echo "# table: users.sql 2 public.users"
			echo "# table: credit_transactions.csv 3 public.credit_transactions"
			echo "# window: credit_transactions.csv created_at >= 2026-08-25 02:00:01+00"
			echo "# added: public.organizations referenced by public.users"
			echo "# warning: table public.nope does not exist"
			for f in schema.sql:- users.sql:2 credit_transactions.csv:3 schema-post.sql:-; do
				echo "$(sha256sum <"${f%%:*}" | cut -c1-64) $(stat -c %s "${f%%:*}") ${f##*:} ${f%%:*}"
			done
		} >MANIFEST
	)
}

# members ARCHIVE: one line per member: name, mode, uid, gid, user and group
# names, mtime, type.
members() {
	python3 - "$1" <<-\EOF
	import sys, tarfile
	with tarfile.open(sys.argv[1], "r:gz") as t:
	    for m in t.getmembers():
	        kind = "dir" if m.isdir() else "file" if m.isfile() else "other"
	        print(m.name, "%o" % m.mode, m.uid, m.gid, repr(m.uname), repr(m.gname),
	              m.mtime, kind)
	EOF
}

test_expect_success 'setup: an export and a configuration directory' '
	make_export exp &&
	mkdir -p config/ssl/sub config/shared config/realdir &&
	echo "DATABASE_URL=postgres://app:pw@db/app" >config/.env.production &&
	echo "services: {}" >config/docker-compose.prod.yml &&
	echo cert >config/ssl/cert.pem &&
	echo key >config/ssl/key.pem &&
	echo inner >config/ssl/sub/inner.pem &&
	echo chain >config/shared/chain.pem &&
	ln -s ../shared/chain.pem config/ssl/chain.pem &&
	ln -s ../realdir config/ssl/linkdir &&
	echo hidden >config/realdir/secret &&
	ln -s nothing config/ssl/dangling &&
	mkfifo config/ssl/fifo &&
	chmod 600 config/.env.production config/ssl/sub/inner.pem &&
	chmod 640 config/docker-compose.prod.yml &&
	chmod 644 config/ssl/cert.pem config/shared/chain.pem &&
	chmod 400 config/ssl/key.pem
'

test_expect_success 'bk-pack writes the default name, prints only its path' '
	date +%s >t0 &&
	(umask 000 && bk-pack exp >out 2>err) &&
	date +%s >t1 &&
	test "$(wc -l <out)" = 1 &&
	grep -x "$BACKUP_DIR/critical_backup_[0-9]\{8\}_[0-9]\{6\}\.tar\.gz" out &&
	cp "$(cat out)" a.tar.gz
'

# stamp_between BEFORE AFTER FILE: FILE holds the path of an archive whose
# name has a stamp within [BEFORE, AFTER] (strings YYYYMMDD_HHMMSS).
stamp_between() {
	local s
	s=$(basename "$(cat "$3")" .tar.gz)
	s=${s#critical_backup_}
	if [[ $s < $1 || $s > $2 ]]; then
		echo "stamp $s not within $1 .. $2"
		return 1
	fi
}

test_expect_success 'the name is the local time of TZ, also from --env-file' '
	before=$(TZ=ICT-7 date +%Y%m%d_%H%M%S) &&
	BACKUP_DIR=$TRASH/tz TZ=ICT-7 bk-pack exp >out 2>err &&
	after=$(TZ=ICT-7 date +%Y%m%d_%H%M%S) &&
	stamp_between "$before" "$after" out &&
	echo TZ=ICT-7 >tz.env &&
	before=$(TZ=ICT-7 date +%Y%m%d_%H%M%S) &&
	BACKUP_DIR=$TRASH/tz2 env -u TZ bk-pack --env-file tz.env exp >out 2>err &&
	after=$(TZ=ICT-7 date +%Y%m%d_%H%M%S) &&
	stamp_between "$before" "$after" out
'

test_expect_success 'BACKUP_DIR created 0700, the archive 0600 whatever the umask' '
	echo 700 >expect && stat -c %a "$BACKUP_DIR" >actual && test_cmp expect actual &&
	echo 600 >expect && stat -c %a a.tar.gz >actual && test_cmp expect actual &&
	stat -c %a "$(ls "$BACKUP_DIR"/*.tar.gz)" >actual && test_cmp expect actual
'

test_expect_success 'no temporary file is left' '
	ls -A "$BACKUP_DIR" >list &&
	test "$(wc -l <list)" = 1 &&
	grep -x "critical_backup_[0-9_]*\.tar\.gz" list
'

test_expect_success 'gzip -t accepts it; the first header is ustar' '
	gzip -t a.tar.gz &&
	gzip -dc a.tar.gz >a.tar &&
	test "$(dd if=a.tar bs=1 skip=257 count=5 2>/dev/null)" = ustar &&
	test $(( $(stat -c %s a.tar) % 10240 )) = 0
'

test_expect_success 'members in order: MANIFEST, BACKUP_INFO.txt, data, config' '
	tar -tzf a.tar.gz >actual &&
	cat >expect <<-\EOF &&
	MANIFEST
	BACKUP_INFO.txt
	schema.sql
	users.sql
	credit_transactions.csv
	schema-post.sql
	.env.production
	docker-compose.prod.yml
	ssl/
	ssl/cert.pem
	ssl/chain.pem
	ssl/key.pem
	ssl/sub/
	ssl/sub/inner.pem
	EOF
	test_cmp expect actual
'

test_expect_success 'member metadata: data 0600/0700, uid/gid 0 without names, mtime of the run' '
	members a.tar.gz >m &&
	t0=$(cat t0) t1=$(cat t1) &&
	mtime=$(awk "NR == 1 { print \$7 }" m) &&
	test "$mtime" -ge "$t0" && test "$mtime" -le "$t1" &&
	grep -v -e "^\.env" -e "^docker-compose" -e "^ssl/.*\.pem " m >data &&
	test $(wc -l <data) = 8 &&
	awk -v t="$mtime" "{
		want = \$8 == \"dir\" ? \"700\" : \"600\"
		if (\$2 != want || \$3 != 0 || \$4 != 0 || \$5 != \"${SQ}${SQ}\" ||
		    \$6 != \"${SQ}${SQ}\" || \$7 != t || \$8 == \"other\") { print \"bad: \" \$0; bad = 1 }
	} END { exit bad }" data
'

test_expect_success 'config members: their own mode, owner and group, names included' '
	grep -e "^\.env" -e "^docker-compose" -e "^ssl/.*\.pem " m | cut -d" " -f1-6 >actual &&
	u="$(id -u) $(id -g) ${SQ}$(id -un)${SQ} ${SQ}$(id -gn)${SQ}" &&
	cat >expect <<-EOF &&
	.env.production 600 $u
	docker-compose.prod.yml 640 $u
	ssl/cert.pem 644 $u
	ssl/chain.pem 644 $u
	ssl/key.pem 400 $u
	ssl/sub/inner.pem 600 $u
	EOF
	test_cmp expect actual
'

test_expect_success 'extracted members are identical to their sources' '
	mkdir x && tar -xzf a.tar.gz -C x &&
	for f in schema.sql users.sql credit_transactions.csv schema-post.sql; do
		cmp exp/$f x/$f || exit 1
	done &&
	for f in .env.production docker-compose.prod.yml ssl/cert.pem ssl/key.pem ssl/sub/inner.pem; do
		cmp config/$f x/$f || exit 1
	done &&
	cmp config/shared/chain.pem x/ssl/chain.pem &&
	test ! -L x/ssl/chain.pem &&
	test_path_is_missing x/ssl/linkdir &&
	test_path_is_missing x/ssl/fifo &&
	test_path_is_missing x/ssl/dangling &&
	test_path_is_missing x/secret
'

test_expect_success 'MANIFEST lists every other regular member with sha256sum and size' '
	(cd x && find . -type f ! -name MANIFEST | sed "s|^\./||" | sort |
		while read -r f; do
			echo "$(sha256sum <"$f" | cut -c1-64) $(stat -c %s "$f") $f"
		done) >actual &&
	grep -v "^#" x/MANIFEST | awk "{ print \$1, \$2, \$4 }" | sort -k3 >expect &&
	test_cmp expect actual
'

test_expect_success 'MANIFEST: rows kept, "-" for what packing added' '
	grep -v "^#" x/MANIFEST | awk "{ print \$3, \$4 }" >actual &&
	cat >expect <<-\EOF &&
	- BACKUP_INFO.txt
	- schema.sql
	2 users.sql
	3 credit_transactions.csv
	- schema-post.sql
	- .env.production
	- docker-compose.prod.yml
	- ssl/cert.pem
	- ssl/chain.pem
	- ssl/key.pem
	- ssl/sub/inner.pem
	EOF
	test_cmp expect actual
'

test_expect_success 'MANIFEST metadata: the export'"'"'s, then config and warning lines' '
	grep "^#" x/MANIFEST | grep -v "^# packed: " >actual &&
	cat >expect <<-EOF &&
	# format: bk 1
	# created: 2026-11-25T02:00:01+00:00
	# host: 127.0.0.1:5432
	# database: smart_ai_hub
	# server_version: 15.4
	# table: users.sql 2 public.users
	# table: credit_transactions.csv 3 public.credit_transactions
	# window: credit_transactions.csv created_at >= 2026-08-25 02:00:01+00
	# added: public.organizations referenced by public.users
	# warning: table public.nope does not exist
	# config: .env.production
	# config: docker-compose.prod.yml
	# config: ssl/cert.pem
	# config: ssl/chain.pem
	# config: ssl/key.pem
	# config: ssl/sub/inner.pem
	# config-mode: 0600 $(id -un) .env.production
	# config-mode: 0640 $(id -un) docker-compose.prod.yml
	# config-mode: 0644 $(id -un) ssl/cert.pem
	# config-mode: 0644 $(id -un) ssl/chain.pem
	# config-mode: 0400 $(id -un) ssl/key.pem
	# config-mode: 0600 $(id -un) ssl/sub/inner.pem
	# warning: config file nginx.prod.conf missing in $BACKUP_CONFIG_DIR (BACKUP_CONFIG_DIR)
	# warning: config file ssl/dangling skipped: symlink to nothing (No such file or directory)
	# warning: config file ssl/fifo skipped: not a regular file or directory
	# warning: config file ssl/linkdir skipped: symlink to a directory (not followed)
	EOF
	test_cmp expect actual &&
	grep -x "# packed: [0-9-]*T[0-9:]*+00:00" x/MANIFEST
'

test_expect_success 'the missing config file is a warning in the log too' '
	grep -F "]: config file nginx.prod.conf missing in $BACKUP_CONFIG_DIR (BACKUP_CONFIG_DIR)" "$BACKUP_LOG" &&
	grep "WARN bk-pack\[[0-9]*\]: config file ssl/linkdir skipped" err
'

test_expect_success 'BACKUP_INFO.txt: summary, files, windows, warnings, config files' '
	sed -n "/^Archive/,/^Made by/p" x/BACKUP_INFO.txt | sed "s/^Packed .*/Packed/; s/critical_backup_[0-9_]*/NAME/; s/bk [0-9.]* /bk V /" >actual &&
	cat >expect <<-\EOF &&
	Archive          NAME.tar.gz
	Data exported    2026-11-25T02:00:01+00:00 (one consistent snapshot)
	Packed
	Database         smart_ai_hub
	Server           127.0.0.1:5432
	Server version   PostgreSQL 15.4
	Made by          bk V (bk-export, bk-pack)
	EOF
	test_cmp expect actual &&
	sed -n "/^Files/,/^HOW TO RESTORE/p" x/BACKUP_INFO.txt >actual &&
	cat >expect <<-\EOF &&
	Files
	    FILE                            BYTES       ROWS  WHAT
	    schema.sql                         40          -  schema (load first)
	    users.sql                          42          2  data, COPY blocks
	        public.users: 2 rows
	    credit_transactions.csv            25          3  data, CSV with header
	        public.credit_transactions: 3 rows
	    schema-post.sql                    47          -  keys, indexes (load last)

	Only recent rows (older rows are not in this backup)
	    credit_transactions.csv: created_at >= 2026-08-25 02:00:01+00

	Tables added because backed-up tables reference them
	    public.organizations referenced by public.users

	Warnings
	    table public.nope does not exist
	EOF
	printf "    %s\n" "config file nginx.prod.conf missing in $BACKUP_CONFIG_DIR (BACKUP_CONFIG_DIR)" >>expect &&
	cat >>expect <<-\EOF &&
	    config file ssl/dangling skipped: symlink to nothing (No such file or directory)
	    config file ssl/fifo skipped: not a regular file or directory
	    config file ssl/linkdir skipped: symlink to a directory (not followed)

	EOF
	printf "Configuration files (from %s)\n" "$BACKUP_CONFIG_DIR" >>expect &&
	cat >>expect <<-\EOF &&
	    .env.production                    38 bytes
	    docker-compose.prod.yml            13 bytes
	    ssl/cert.pem                        5 bytes
	    ssl/chain.pem                       6 bytes
	    ssl/key.pem                         4 bytes
	    ssl/sub/inner.pem                   6 bytes


	HOW TO RESTORE
	EOF
	test_cmp expect actual
'

test_expect_success 'BACKUP_INFO.txt: the restore commands name the real files and tables' '
	bk-pack -o "$TRASH/named.tar.gz" exp >out 2>err &&
	tar -xzOf named.tar.gz BACKUP_INFO.txt >info &&
	sed -n "s/^    \\$ //p" info >actual &&
	cat >expect <<-EOF &&
	bk-unpack --restore named.tar.gz
	tar -xzf named.tar.gz
	createdb -T template0 smart_ai_hub_restore
	export PGDATABASE=smart_ai_hub_restore
	psql -v ON_ERROR_STOP=1 -1 -f schema.sql
	psql -v ON_ERROR_STOP=1 -1 -f users.sql
	$(sed -n "s/^    \\$ \\(printf .* >csv-escape.awk\\)\$/\\1/p" "$BK_ROOT/docs/BACKUP_RESTORE.md")
	psql -v ON_ERROR_STOP=1 -c "\\copy public.credit_transactions FROM PROGRAM ${SQ}LC_ALL=C awk -f csv-escape.awk credit_transactions.csv${SQ} WITH (FORMAT csv, HEADER, ESCAPE ${SQ}\\${SQ})"
	psql -v ON_ERROR_STOP=1 -1 -f schema-post.sql
	install -D -m 0600 .env.production $BACKUP_CONFIG_DIR/.env.production
	install -D -m 0640 docker-compose.prod.yml $BACKUP_CONFIG_DIR/docker-compose.prod.yml
	install -D -m 0644 ssl/cert.pem $BACKUP_CONFIG_DIR/ssl/cert.pem
	install -D -m 0644 ssl/chain.pem $BACKUP_CONFIG_DIR/ssl/chain.pem
	install -D -m 0400 ssl/key.pem $BACKUP_CONFIG_DIR/ssl/key.pem
	install -D -m 0600 ssl/sub/inner.pem $BACKUP_CONFIG_DIR/ssl/sub/inner.pem
	EOF
	test_cmp expect actual
'

test_expect_success 'the config commands of BACKUP_INFO.txt put the files back' '
	mkdir c && (cd c && tar -xzf ../named.tar.gz) &&
	mv config config.orig &&
	sed -n "/^C\. /,\$ s/^    \\$ //p" info >put-back.sh &&
	(cd c && bash -e ../put-back.sh) &&
	for f in .env.production docker-compose.prod.yml ssl/cert.pem ssl/key.pem \
		ssl/chain.pem ssl/sub/inner.pem; do
		cmp config.orig/$f config/$f || exit 1
	done &&
	rm -rf config && mv config.orig config
'

test_expect_success 'a symlinked config directory is not followed' '
	mkdir -p config/realdir2 && echo x >config/realdir2/app.conf &&
	ln -s realdir2 config/linked &&
	ln -s ssl config/ssl-link &&
	BACKUP_CONFIG_FILES="ssl-link linked/app.conf .env.production" \
		bk-pack -o "$TRASH/sym.tar.gz" exp >out 2>err &&
	tar -tzf sym.tar.gz >list &&
	! grep -e ssl-link -e linked list &&
	tar -xzOf sym.tar.gz MANIFEST >man &&
	grep -x "# warning: config file ssl-link skipped: symlink to a directory (not followed)" man &&
	grep -x "# warning: config file linked/app.conf skipped: linked is a symlink (directories are not followed)" man &&
	grep -x "# config: .env.production" man
'

test_expect_success 'a name in a subdirectory gets its parent directory member' '
	mkdir -p config/nginx/sites && echo "server {}" >config/nginx/sites/app.conf &&
	BACKUP_CONFIG_FILES="nginx/sites/app.conf" bk-pack -o "$TRASH/sub.tar.gz" exp >out 2>err &&
	tar -tzf sub.tar.gz | tail -n 3 >actual &&
	printf "%s\n" nginx/ nginx/sites/ nginx/sites/app.conf >expect &&
	test_cmp expect actual
'

test_expect_success 'odd names: Thai, spaces, long; a backslash is left out with a warning' '
	long=$(printf "%0150d" 0).pem &&
	mkdir -p config/odd &&
	echo th >"config/odd/ใบรับรอง.pem" &&
	echo sp >"config/odd/name with space.pem" &&
	echo lg >"config/odd/$long" &&
	echo bs >"config/odd/back\\slash" &&
	echo ff >"config/odd/latin1-$(printf "\377")" &&
	echo nl >"config/odd/new
line" &&
	BACKUP_CONFIG_FILES="odd" bk-pack -o "$TRASH/odd.tar.gz" exp >out 2>err &&
	mkdir xo && tar -xzf odd.tar.gz -C xo &&
	cmp "config/odd/ใบรับรอง.pem" "xo/odd/ใบรับรอง.pem" &&
	cmp "config/odd/name with space.pem" "xo/odd/name with space.pem" &&
	cmp "config/odd/$long" "xo/odd/$long" &&
	test_path_is_missing "xo/odd/back\\slash" &&
	grep -x "# config: odd/ใบรับรอง.pem" xo/MANIFEST &&
	grep -x "# config: odd/name with space.pem" xo/MANIFEST &&
	tar -xzOf odd.tar.gz MANIFEST | grep "^# warning: config" >actual &&
	cat >expect <<-\EOF &&
	# warning: config file odd/back\slash skipped: name not allowed in an archive
	# warning: config file odd/latin1-? skipped: name not allowed in an archive
	# warning: config file odd/new?line skipped: name not allowed in an archive
	EOF
	test_cmp expect actual
'

test_expect_success 'no configuration directory at all: warnings, exit 0' '
	BACKUP_CONFIG_DIR=$TRASH/none bk-pack -o "$TRASH/none.tar.gz" exp >out 2>err &&
	tar -xzOf none.tar.gz MANIFEST | grep "^# warning: config" >actual &&
	cat >expect <<-EOF &&
	# warning: config file .env.production missing in $TRASH/none (BACKUP_CONFIG_DIR)
	# warning: config file docker-compose.prod.yml missing in $TRASH/none (BACKUP_CONFIG_DIR)
	# warning: config file nginx.prod.conf missing in $TRASH/none (BACKUP_CONFIG_DIR)
	# warning: config file ssl missing in $TRASH/none (BACKUP_CONFIG_DIR)
	EOF
	test_cmp expect actual &&
	tar -xzOf none.tar.gz BACKUP_INFO.txt >info &&
	sed -n "/^Configuration files/,/^\$/p" info >actual &&
	printf "%s\n" "Configuration files (from $TRASH/none)" "    none" "" >expect &&
	test_cmp expect actual
'

test_expect_success 'an unlisted file in DIR is left out with a warning' '
	cp -r exp extra && echo stray >extra/stray.txt &&
	bk-pack -o "$TRASH/extra.tar.gz" extra >out 2>err &&
	grep "WARN bk-pack\[[0-9]*\]: extra/stray.txt is not listed in MANIFEST; not packed" err &&
	! tar -tzf extra.tar.gz | grep stray
'

test_expect_success 'BACKUP_GZIP_LEVEL is used' '
	head -c 300000 /dev/zero | tr "\0" a >exp/users.sql &&
	make_one() { sed -i "/ users.sql\$/d" exp/MANIFEST &&
		echo "$(sha256sum <exp/users.sql | cut -c1-64) $(stat -c %s exp/users.sql) 2 users.sql" >>exp/MANIFEST; } &&
	make_one &&
	BACKUP_GZIP_LEVEL=1 bk-pack -o "$TRASH/l1.tar.gz" exp >out 2>err &&
	BACKUP_GZIP_LEVEL=9 bk-pack -o "$TRASH/l9.tar.gz" exp >out 2>err &&
	gzip -t l1.tar.gz && gzip -t l9.tar.gz &&
	test "$(stat -c %s l9.tar.gz)" -lt "$(stat -c %s l1.tar.gz)"
'

test_done
