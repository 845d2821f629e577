#!/bin/bash
# Every ```sh block of the administrator documentation runs, as written and in
# order, against a real PostgreSQL with a backup already made, so the docs
# cannot drift from the programs.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'the commands in docs/ work as written'

test_need_programs bk-run bk-unpack bk-mail bk-monitor bk-verify
pg_start && pg_load_fixture || exit 1
# A backup of a real deployment's size, so the default BACKUP_MIN_SIZE_MB
# (1) holds and bk-monitor is healthy as the docs say: about 2 MB of
# settings that do not compress well.
pg_psql -c "INSERT INTO system_settings (key, description, updated_at)
	SELECT 'docs.sample.' || i, (SELECT string_agg(md5(i || '.' || j), '')
		FROM generate_series(1, 400) j), now() FROM generate_series(1, 180) i" || exit 1

# The container's environment: config files, mail into an outbox.
mkdir -p "$BACKUP_CONFIG_DIR/ssl" "$TRASH/outbox"
echo "NODE_ENV=production" >"$BACKUP_CONFIG_DIR/.env.production"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
echo "events {}" >"$BACKUP_CONFIG_DIR/nginx.prod.conf"
echo "CERT" >"$BACKUP_CONFIG_DIR/ssl/cert.pem"
export ADMIN_EMAILS=admin@example.com BACKUP_MAIL_OUTBOX=$TRASH/outbox
export SMTP_FROM=backup@example.com
# Signed as the set-up in BACKUP_SYSTEM.md says (minisign -G -W, then the variables).
command -v minisign >/dev/null ||
	test_skip_all "minisign is not installed (tools/install-deps installs it)"
minisign -G -W -p "$TRASH/bk.pub" -s "$TRASH/bk.key" >/dev/null || exit 1
export BACKUP_SIGNING_KEY_FILE=$TRASH/bk.key BACKUP_VERIFY_KEY_FILE=$TRASH/bk.pub

# Write each ```sh block of $1 to blocks/NAME-N.sh.
extract_blocks() {
	mkdir -p "$TRASH/blocks"
	awk -v out="$TRASH/blocks/$(basename "$1" .md)" '
		/^```sh$/ { n++; file = sprintf("%s-%02d.sh", out, n); inblock = 1; next }
		/^```/ && inblock { inblock = 0; close(file); next }
		inblock { print > file }
	' "$1"
}

test_expect_success 'the nightly run has made a backup' '
	bk-run >/dev/null 2>&1
'

for doc in BACKUP_OPERATIONS BACKUP_SYSTEM; do
	[ -f "$BK_ROOT/docs/$doc.md" ] || continue
	extract_blocks "$BK_ROOT/docs/$doc.md"
	for block in "$TRASH"/blocks/$doc-*.sh; do
		[ -f "$block" ] || continue
		title=$(grep -v -e "^archive=" -e "^PGPASSWORD=" -e "^ " "$block" | head -n 1)
		test_expect_success "docs/$doc.md: $title" "
			cd \"\$TRASH\" && bash -e \"$block\"
		"
	done
done

test_expect_success 'the documented restore made an identical database' '
	for t in users organizations system_settings; do
		pg_psql -Atc "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >a.$t &&
		pg_psql -d smart_ai_hub_restored -Atc "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >b.$t &&
		test_cmp a.$t b.$t || return 1
	done
'

test_done
