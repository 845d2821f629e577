#!/bin/bash
# bk-unpack -C and --config-to: members come out byte for byte with private
# modes, configuration files with theirs (as packed, "# config-mode:"; 0600
# for an archive without that line: see t0703), existing
# files are never overwritten without --force, links planted in the target
# are not written through, and --dry-run creates nothing.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-unpack: extraction and configuration files'

# mode PATH: octal permission bits.
mode() {
	stat -c %a "$1"
}

# outside_untouched: the sentinel directory next to the targets is as made.
outside_untouched() {
	test "$(ls -A outside)" = "sentinel" &&
	test "$(cat outside/sentinel)" = "keep me"
}

test_expect_success 'setup: an archive with data and configuration files' '
	ar_good good.tar.gz &&
	mkdir outside && echo "keep me" >outside/sentinel
'

test_expect_success '-C DIR extracts every member byte for byte, prints DIR' '
	bk-unpack -C dest good.tar.gz >stdout 2>err &&
	echo dest >expect &&
	test_cmp expect stdout &&
	for f in MANIFEST $AR_MEMBERS; do
		if test -d good.tar.gz.d/$f; then
			test_path_is_dir dest/$f || exit 1
		else
			cmp good.tar.gz.d/$f dest/$f || exit 1
		fi
	done &&
	(cd dest && find . | sort) >actual &&
	(cd good.tar.gz.d && find . | sort) >expect &&
	test_cmp expect actual
'

test_expect_success '-C DIR: private modes (DIR and directories 0700, files 0600)' '
	test "$(mode dest)" = 700 &&
	test "$(mode dest/ssl)" = 700 &&
	find dest -type f ! -perm 600 >bad &&
	test_cmp /dev/null bad
'

test_expect_success '-C DIR that holds some of the files: refused, listed, unchanged' '
	mkdir dest2 && echo mine >dest2/users.sql && echo other >dest2/keep &&
	test_expect_code 1 bk-unpack -C dest2 good.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	grep -q "dest2: 1 file exists already: users.sql" err &&
	grep -q "hint: --force replaces them" err &&
	test "$(cat dest2/users.sql)" = mine &&
	test "$(ls -A dest2 | sort | tr "\n" " ")" = "keep users.sql "
'

test_expect_success '-C DIR --force replaces them' '
	bk-unpack -C dest2 --force good.tar.gz >stdout 2>err &&
	cmp good.tar.gz.d/users.sql dest2/users.sql &&
	test "$(cat dest2/keep)" = other
'

test_expect_success '--config-to DIR writes only the configuration files, with their modes' '
	bk-unpack --config-to cfg good.tar.gz >stdout 2>err &&
	echo cfg >expect &&
	test_cmp expect stdout &&
	(cd cfg && find . | sort) >actual &&
	printf "%s\n" . ./.env.production ./ssl ./ssl/cert.pem >expect &&
	test_cmp expect actual &&
	cmp good.tar.gz.d/.env.production cfg/.env.production &&
	cmp good.tar.gz.d/ssl/cert.pem cfg/ssl/cert.pem &&
	test "$(mode cfg/.env.production)" = 600 &&
	test "$(mode cfg/ssl/cert.pem)" = 600 &&
	test "$(mode cfg/ssl)" = 755
'

test_expect_success 'an archive without "# config-mode:" lines: 0600 whatever the names' '
	mkdir keys && cd keys &&
	ar_sample d &&
	printf "KEY\n" >d/ssl/server.key &&
	printf "KEY\n" >d/ssl/privkey.pem &&
	printf "KEY\n" >d/ssl/tls-key.pem &&
	printf "server {}\n" >d/nginx.prod.conf &&
	set -- $AR_MEMBERS nginx.prod.conf ssl/server.key ssl/privkey.pem ssl/tls-key.pem &&
	ar_manifest d "$@" &&
	sed -i "s/^# host: db$/&\n# config: nginx.prod.conf\n# config: ssl\/server.key\n# config: ssl\/privkey.pem\n# config: ssl\/tls-key.pem/" d/MANIFEST &&
	ar_pack d keys.tar.gz MANIFEST "$@" &&
	bk-unpack --config-to cfg keys.tar.gz >stdout 2>err &&
	for k in server.key privkey.pem tls-key.pem; do
		test "$(mode cfg/ssl/$k)" = 600 || exit 1
	done &&
	test "$(mode cfg/nginx.prod.conf)" = 600 &&
	test "$(mode cfg/ssl/cert.pem)" = 600
'

test_expect_success '--config-to DIR over existing files: refused, all listed, nothing written' '
	mkdir cfg2 cfg2/ssl &&
	echo "OLD=1" >cfg2/.env.production &&
	test_expect_code 1 bk-unpack --config-to cfg2 good.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	grep -q "cfg2: 1 configuration file exists already: .env.production" err &&
	test "$(cat cfg2/.env.production)" = "OLD=1" &&
	test_path_is_missing cfg2/ssl/cert.pem &&
	echo "CERT" >cfg2/ssl/cert.pem &&
	test_expect_code 1 bk-unpack --config-to cfg2 good.tar.gz 2>err &&
	grep -q "cfg2: 2 configuration files exist already: .env.production, ssl/cert.pem" err &&
	test "$(cat cfg2/ssl/cert.pem)" = CERT
'

test_expect_success '--config-to DIR --force replaces them, modes set again' '
	chmod 644 cfg2/.env.production &&
	bk-unpack --config-to cfg2 --force good.tar.gz >stdout 2>err &&
	cmp good.tar.gz.d/.env.production cfg2/.env.production &&
	cmp good.tar.gz.d/ssl/cert.pem cfg2/ssl/cert.pem &&
	test "$(mode cfg2/.env.production)" = 600
'

test_expect_success 'a symlink planted in the config dir is not written through' '
	mkdir cfg3 &&
	ln -s ../outside cfg3/ssl &&
	test_expect_code 1 bk-unpack --config-to cfg3 good.tar.gz >stdout 2>err &&
	grep -q "ssl is a symbolic link" err &&
	outside_untouched &&
	test_path_is_missing cfg3/.env.production &&
	test_expect_code 1 bk-unpack --config-to cfg3 --force good.tar.gz 2>err &&
	outside_untouched &&
	test_path_is_missing cfg3/.env.production
'

test_expect_success 'a symlink planted as a file: refused; --force replaces the link, not its target' '
	mkdir cfg4 &&
	ln -s ../outside/sentinel cfg4/.env.production &&
	test_expect_code 1 bk-unpack --config-to cfg4 good.tar.gz 2>err &&
	grep -q "exists already: .env.production" err &&
	outside_untouched &&
	bk-unpack --config-to cfg4 --force good.tar.gz >stdout 2>err &&
	outside_untouched &&
	test ! -L cfg4/.env.production &&
	cmp good.tar.gz.d/.env.production cfg4/.env.production
'

test_expect_success 'a symlink planted in -C DIR is not written through' '
	mkdir dest3 &&
	ln -s ../outside dest3/ssl &&
	test_expect_code 1 bk-unpack -C dest3 good.tar.gz >stdout 2>err &&
	grep -q "ssl is a symbolic link" err &&
	outside_untouched &&
	test "$(ls -A dest3)" = ssl
'

test_expect_success '--dry-run with -C and --config-to prints the plan, creates nothing' '
	bk-unpack --dry-run -C new --config-to newcfg good.tar.gz >stdout 2>err &&
	test_path_is_missing new &&
	test_path_is_missing newcfg &&
	sed -n "/^extract-to/,\$p" stdout >actual &&
	cat >expect <<-\EOF &&
	extract-to new
	  BACKUP_INFO.txt                      0600
	  schema.sql                           0600
	  users.sql                            0600
	  organization.sql                     0600
	  credit_transactions.csv              0600
	  schema-post.sql                      0600
	  .env.production                      0600
	  ssl/cert.pem                         0600
	  MANIFEST                             0600
	config-to  newcfg
	  .env.production                      0600
	  ssl/cert.pem                         0600
	nothing changed (dry run)
	EOF
	test_cmp expect actual &&
	grep -q "^verified   intact$" stdout &&
	grep -q "^  users.sql  *300 bytes  *4 rows$" stdout
'

test_expect_success '--dry-run says what would be refused, and fails' '
	test_expect_code 1 bk-unpack --dry-run --config-to cfg2 good.tar.gz >stdout 2>err &&
	grep -q "^  would refuse, these exist: .env.production, ssl/cert.pem$" stdout &&
	bk-unpack --dry-run --force --config-to cfg2 good.tar.gz >stdout 2>err &&
	grep -q "^  would replace: .env.production, ssl/cert.pem$" stdout
'

test_expect_success 'nothing was left in the temporary directory' '
	test "$(ls -A "$BACKUP_TMPDIR")" = ""
'

test_done
