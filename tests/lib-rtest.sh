# Helpers for the restore-test tests (t065x), sourced after lib.sh and
# lib-pg.sh: a role that may create databases for BACKUP_RESTORE_TEST_URL,
# the installation hash that names scratch databases, and the usual bk-run
# environment (mail to an outbox, config files to pack).

rtest_prereq() {
	local p
	for p in bk-run bk-export bk-pack bk-verify bk-mail bk-prune; do
		[ -x "$BK_BUILD_DIR/bin/$p" ] || test_skip_all "bin/$p is not built"
	done
}

# rtest_setup: after pg_start: the bk-run environment and role rtest
# (CREATEDB, its own password) for BACKUP_RESTORE_TEST_URL.
rtest_setup() {
	export BACKUP_MIN_SIZE_MB=0 ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
	export BACKUP_MAIL_OUTBOX=$TRASH/outbox
	mkdir -p "$BACKUP_CONFIG_DIR" "$BACKUP_MAIL_OUTBOX" "$BACKUP_DIR"
	chmod 700 "$BACKUP_DIR"
	echo "DATABASE_URL=postgres://app@db/app" >"$BACKUP_CONFIG_DIR/.env.production"
	echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
	echo "events {}" >"$BACKUP_CONFIG_DIR/nginx.prod.conf"
	export BACKUP_CONFIG_FILES=".env.production docker-compose.prod.yml nginx.prod.conf"
	RTEST_PASSWORD=rt-$(test_random_hex 20)
	pg_psql -d postgres -v pw="$RTEST_PASSWORD" <<-'SQL' || return 1
	CREATE ROLE rtest LOGIN CREATEDB PASSWORD :'pw';
	SQL
}

# rtest_url [ROLE [PASSWORD]]: a connection URL to the test server's
# postgres database.
rtest_url() {
	echo "postgresql://${1:-rtest}:${2:-$RTEST_PASSWORD}@127.0.0.1:$POSTGRES_PORT/postgres"
}

# rtest_hash: 8 hex digits of the SHA-256 of BACKUP_DIR's real path.
rtest_hash() {
	printf %s "$(realpath "$BACKUP_DIR")" | sha256sum | cut -c1-8
}

# rtest_scratch_dbs: names of the scratch databases on the test server.
rtest_scratch_dbs() {
	pg_query "SELECT datname FROM pg_database WHERE datname LIKE 'bk\\_restore\\_test\\_%' ORDER BY 1"
}

_rtest_after() {
	[ "$(date +%s)" -gt "$1" ]
}

# rtest_next_second: archive names (and scratch database names) have
# one-second resolution: wait until the clock is past the last run's start.
rtest_next_second() {
	local last
	last=$(tail -n 1 "$BACKUP_DIR/.backup_history" 2>/dev/null | cut -f1)
	while ! _rtest_after "${last:-0}"; do
		sleep 0.05
	done
}

# rtest_last_mail: the Subject and the decoded text part of the newest
# message in the outbox ("Subject: ..." first).
rtest_last_mail() {
	/usr/bin/python3 - "$BACKUP_MAIL_OUTBOX" <<-\PY
	import email, email.policy, glob, os, sys
	files = sorted(glob.glob(os.path.join(sys.argv[1], "*.eml")),
	               key=lambda f: (os.stat(f).st_mtime_ns, f))
	with open(files[-1], "rb") as fh:
	    m = email.message_from_binary_file(fh, policy=email.policy.default)
	print("Subject: " + str(m["Subject"]))
	for part in m.walk():
	    if part.get_content_type() == "text/plain":
	        print(part.get_content().replace("\r\n", "\n"))
	PY
}

# rtest_fakebin_post SQLFILE: $TRASH/fakebin holds bin/* (bk-run finds its
# steps next to itself) with a bk-export that appends SQLFILE to the
# export's schema-post.sql and records its new size and SHA-256 in
# MANIFEST: a hand-made archive that packs, signs and verifies like any.
rtest_fakebin_post() {
	local fb=$TRASH/fakebin
	mkdir -p "$fb"
	cp "$BK_BUILD_DIR"/bin/* "$fb/"
	cat >"$fb/bk-export" <<-WRAP
	#!/bin/bash
	out=\$("$BK_BUILD_DIR/bin/bk-export" "\$@") || exit \$?
	cat "$1" >>"\$out/schema-post.sql"
	sum=\$(sha256sum <"\$out/schema-post.sql" | cut -d" " -f1)
	size=\$(stat -c %s "\$out/schema-post.sql")
	awk -v s="\$sum" -v n="\$size" '\$4 == "schema-post.sql" && !/^#/ { \$1 = s; \$2 = n } { print }' \
		"\$out/MANIFEST" >"\$out/MANIFEST.new" && mv "\$out/MANIFEST.new" "\$out/MANIFEST"
	echo "\$out"
	WRAP
	chmod +x "$fb/bk-export"
}

# rtest_tamper TABLE 'ASSIGNMENT': an event trigger in template1 (so every
# new database inherits it, the scratch database too) gives public.TABLE,
# when it is created, a BEFORE INSERT trigger that alters the first row the
# session loads with ASSIGNMENT (plpgsql on NEW): a row altered after load.
rtest_tamper() {
	pg_psql -d template1 -v tbl="public.$1" <<-SQL
	CREATE FUNCTION public.rtest_alter() RETURNS trigger LANGUAGE plpgsql AS \$f\$
	BEGIN
		IF current_setting('rtest.altered', true) IS DISTINCT FROM '1' THEN
			PERFORM set_config('rtest.altered', '1', false);
			$2;
		END IF;
		RETURN NEW;
	END \$f\$;
	CREATE FUNCTION public.rtest_arm() RETURNS event_trigger LANGUAGE plpgsql AS \$f\$
	BEGIN
		IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c
			   WHERE c.object_type = 'table' AND c.object_identity = '$(printf %s "public.$1")') THEN
			EXECUTE 'CREATE TRIGGER rtest_alter BEFORE INSERT ON public.$1'
				' FOR EACH ROW EXECUTE FUNCTION public.rtest_alter()';
		END IF;
	END \$f\$;
	CREATE EVENT TRIGGER rtest_arm ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
		EXECUTE FUNCTION public.rtest_arm();
	SQL
}

rtest_untamper() {
	pg_psql -d template1 -c "DROP EVENT TRIGGER rtest_arm" \
		-c "DROP FUNCTION public.rtest_arm(), public.rtest_alter()"
}
