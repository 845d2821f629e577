#!/bin/bash
# bk-run and bk-monitor agree: a backup below BACKUP_MIN_SIZE_MB is not
# mailed as "Backup OK". The backup mail lists every reason bk-monitor gives
# (the same checks, lib/ops/monitor.c) under an amber heading and counts it
# in the subject's warnings; bk-run logs each one. With the rule satisfied,
# neither says anything.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'the backup mail shows the health warnings'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail bk-monitor
[ -x "$SMTP_TEST_PYTHON" ] || test_skip_all "no $SMTP_TEST_PYTHON to parse mail"
pg_start && pg_load_fixture || exit 1
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"
for f in .env.production docker-compose.prod.yml nginx.prod.conf; do
	echo "# $f" >"$BACKUP_CONFIG_DIR/$f"
done
mkdir -p "$BACKUP_CONFIG_DIR/ssl" && echo cert >"$BACKUP_CONFIG_DIR/ssl/cert.pem"

# The sample database makes an archive of some tens of KB: below the
# default minimum of 1 MB.
test_expect_success 'a small backup: bk-run warns, bk-monitor calls it unhealthy' '
	bk-run >path 2>err &&
	archive=$(cat path) &&
	test_expect_code 1 bk-monitor >status &&
	sed -n "s/^unhealthy: //p" status >reason &&
	grep -q "below the minimum 1 MB" reason &&
	grep "WARN bk-run\[[0-9]*\]: health: $(cat reason) (bk-monitor reports it unhealthy)" err
'

test_expect_success 'the backup mail: WARNING in the subject, the reason under an amber heading' '
	eml=$(ls "$BACKUP_MAIL_OUTBOX"/*-backup.eml) &&
	mail_parse "$eml" parsed &&
	manifest=$(tar -xzOf "$(cat path)" MANIFEST | grep -c "^# warning:" || :) &&
	n=$((manifest + 1)) &&
	grep -x "\[bk\] Backup WARNING [0-9-]* smart_ai_hub [0-9.]* KB ($n warnings\{0,1\})" parsed/subject &&
	! grep -q "Backup OK" parsed/subject &&
	sed -n "/^Health warnings/,/^\$/p" parsed/text >health &&
	sed -n "1,2p" health >head &&
	printf "%s\n" "Health warnings" "---------------" >expect &&
	test_cmp expect head &&
	grep -x "  - $(cat reason)" health &&
	grep -q "<h3 style=\"color:#9a6700\">Health warnings</h3>" parsed/html &&
	grep -q "<h2 style=\"color:#9a6700\">Backup done with warnings" parsed/html &&
	grep -x "Warnings           $n" parsed/text
'

test_expect_success 'BACKUP_MIN_SIZE_MB=0: no health warning, Backup OK' '
	rm -f "$BACKUP_MAIL_OUTBOX"/*.eml &&
	BACKUP_MIN_SIZE_MB=0 bk-monitor >status &&
	BACKUP_MIN_SIZE_MB=0 bk-mail --backup "$(cat path)" >mailed &&
	mail_parse "$(cat mailed)" parsed2 &&
	! grep -q "Health warnings" parsed2/text &&
	grep -q "^\[bk\] Backup OK " parsed2/subject
'

test_expect_success 'an older archive mailed by hand: no health warnings of the directory' '
	cp "$(cat path)" "$BACKUP_DIR/critical_backup_20200101_000000.tar.gz" &&
	bk-mail --backup "$BACKUP_DIR/critical_backup_20200101_000000.tar.gz" >mailed &&
	mail_parse "$(cat mailed)" parsed3 &&
	! grep -q "Health warnings" parsed3/text
'

test_done
