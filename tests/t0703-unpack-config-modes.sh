#!/bin/bash
# Configuration files come back with the mode they had when packed (bk-pack
# records it in the tar header and on a "# config-mode:" line), whatever they
# are called: docker-compose.prod.yml 0640 and ssl/combined.pem 0600 no longer
# come back 0644. Never more than the header says; 0600 when unknown.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-unpack --config-to keeps the modes of configuration files'

# mode PATH: octal permission bits.
mode() {
	stat -c %a "$1"
}

test_expect_success 'setup: an export, config files of five modes, an archive' '
	mkdir exp && (
		cd exp &&
		printf "CREATE TABLE public.users (id integer);\n" >schema.sql &&
		printf "COPY public.users (id) FROM stdin;\n1\n\\\\.\n" >users.sql &&
		{
			echo "# format: bk 1"
			echo "# table: users.sql 1 public.users"
			for f in schema.sql:- users.sql:1; do
				echo "$(ar_sha "${f%%:*}") $(stat -c %s "${f%%:*}") ${f##*:} ${f%%:*}"
			done
		} >MANIFEST
	) &&
	mkdir -p config/ssl &&
	echo "POSTGRES_PASSWORD=pw" >config/.env.production &&
	echo "services: {db: {environment: [POSTGRES_PASSWORD=pw]}}" >config/docker-compose.prod.yml &&
	echo "server {}" >config/nginx.prod.conf &&
	echo "KEY" >config/ssl/key.pem &&
	printf "CERT\nKEY\n" >config/ssl/combined.pem &&
	chmod 600 config/.env.production config/ssl/combined.pem &&
	chmod 640 config/docker-compose.prod.yml &&
	chmod 644 config/nginx.prod.conf &&
	chmod 400 config/ssl/key.pem &&
	bk-pack -o "$TRASH/a.tar.gz" exp >out 2>err
'

# repack DIR OUT: MANIFEST then every member it lists, as tar(1) stores them.
repack() {
	(cd "$1" && tar --format=pax --no-recursion -cf - MANIFEST \
		$(grep -v "^#" MANIFEST | cut -d" " -f4)) | gzip >"$2"
}

cat >modes.expect <<-\EOF
.env.production 600
docker-compose.prod.yml 640
nginx.prod.conf 644
ssl/combined.pem 600
ssl/key.pem 400
EOF

test_expect_success '--config-to: each file with the mode it had' '
	(umask 000 && bk-unpack --config-to cfg a.tar.gz >out 2>err) &&
	for f in .env.production docker-compose.prod.yml nginx.prod.conf ssl/combined.pem \
		ssl/key.pem; do
		cmp config/$f cfg/$f || exit 1
		echo "$f $(mode cfg/$f)"
	done >actual &&
	test_cmp modes.expect actual
'

test_expect_success '--force over wider files sets the packed modes again' '
	chmod 666 cfg/.env.production cfg/docker-compose.prod.yml cfg/ssl/combined.pem &&
	chmod 644 cfg/ssl/key.pem &&
	bk-unpack --config-to cfg --force a.tar.gz >out 2>err &&
	for f in .env.production docker-compose.prod.yml nginx.prod.conf ssl/combined.pem \
		ssl/key.pem; do
		echo "$f $(mode cfg/$f)"
	done >actual &&
	test_cmp modes.expect actual
'

test_expect_success '--dry-run shows the same modes' '
	bk-unpack --dry-run --config-to new a.tar.gz >out 2>err &&
	sed -n "/^config-to/,/^[a-z]/ s/^  \([^ ]*\)  *0\([0-7]*\)\$/\1 \2/p" out | sort >actual &&
	test_cmp modes.expect actual
'

test_expect_success 'the MANIFEST records mode and owner name of each' '
	tar -xzOf a.tar.gz MANIFEST | sed -n "s/^# config-mode: //p" | sort -k3 >actual &&
	u=$(id -un) &&
	cat >expect <<-EOF &&
	0600 $u .env.production
	0640 $u docker-compose.prod.yml
	0644 $u nginx.prod.conf
	0600 $u ssl/combined.pem
	0400 $u ssl/key.pem
	EOF
	test_cmp expect actual
'

test_expect_success 'BACKUP_INFO.txt puts them back with the same modes' '
	tar -xzOf a.tar.gz BACKUP_INFO.txt >info &&
	sed -n "s/^    \$ install -D -m 0\([0-7]*\) \([^ ]*\) .*/\2 \1/p" info | sort >actual &&
	test_cmp modes.expect actual
'

test_expect_success 'a line wider than the tar header: the header caps it' '
	mkdir wide && (cd wide && tar -xzf ../a.tar.gz) &&
	sed -i "s/^# config-mode: 0600 \(.*\) .env.production\$/# config-mode: 0666 \1 .env.production/" \
		wide/MANIFEST &&
	grep -q "^# config-mode: 0666 .* .env.production\$" wide/MANIFEST &&
	chmod 600 wide/.env.production &&
	repack wide wide.tar.gz &&
	bk-unpack --config-to wcfg wide.tar.gz >out 2>err &&
	test "$(mode wcfg/.env.production)" = 600
'

test_expect_success 'an archive without "# config-mode:" lines: 0600' '
	mkdir old && (cd old && tar -xzf ../a.tar.gz) &&
	sed -i "/^# config-mode: /d" old/MANIFEST &&
	chmod 644 old/nginx.prod.conf &&
	repack old old.tar.gz &&
	bk-unpack --config-to ocfg old.tar.gz >out 2>err &&
	test "$(mode ocfg/nginx.prod.conf)" = 600
'

test_done
