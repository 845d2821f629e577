#!/bin/bash
# The real container (Dockerfile.backup, built and run by podman): its
# HEALTHCHECK, a cron-made backup of the tests' PostgreSQL with the password
# as a mounted secret file, `podman healthcheck run`, and a broken
# configuration stopping the container at once. Run by `make check-container`.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'the backup container, built and run with podman'

. "$TEST_DIRECTORY/lib-container.sh"
test_need_programs bk-verify
container_setup

NAME=bk-t0900-$$
BAD=bk-t0900-bad-$$
COMPOSED=bk-t0900-compose-$$
test_atexit 'podman rm --ignore -f -t 0 $NAME $BAD $COMPOSED >/dev/null 2>&1 || :'

test_expect_success 'the image builds (podman, docker format, no pull)' '
	image_build
'
podman image exists "$IMAGE" || test_skip_all "the image did not build"
test_diag "image $IMAGE: $(podman image inspect --format '{{.Size}}' "$IMAGE") bytes," \
	"built in $(cat build.seconds 2>/dev/null || echo ?) s (podman's layer cache may have helped)"

test_expect_success 'HEALTHCHECK: bk-monitor every hour, 10 s timeout, 3 retries' '
	podman image inspect --format "{{json .Config.Healthcheck}}" "$IMAGE" >hc &&
	echo "{\"Test\":[\"CMD\",\"bk-monitor\"],\"Interval\":3600000000000,\"Timeout\":10000000000,\"Retries\":3}" >expect &&
	test_cmp expect hc
'

test_expect_success 'user backup, entrypoint bk-run --entrypoint, TZ UTC by default' '
	podman image inspect --format "{{.Config.User}}|{{json .Config.Entrypoint}}" "$IMAGE" >got &&
	echo "backup|[\"bk-run\",\"--entrypoint\"]" >expect &&
	test_cmp expect got &&
	podman image inspect --format "{{range .Config.Env}}{{println .}}{{end}}" "$IMAGE" >env &&
	grep -qx "TZ=UTC" env
'

test_expect_success 'the image is under 150 MB' '
	size=$(podman image inspect --format "{{.Size}}" "$IMAGE") &&
	test "$size" -lt 150000000
'

test_expect_success 'inside: Debian 13, pg_dump 17 first in PATH, non-root, /backups 0700' '
	podman_ run --rm --network=host --entrypoint sh "$IMAGE" -c \
		"pg_dump --version; id -un; stat -c %a:%U /backups /var/log/backup.log \$BACKUP_TMPDIR; . /etc/os-release; echo \$VERSION_CODENAME" >got &&
	grep -q "^pg_dump (PostgreSQL) 17\." got &&
	sed -n "2,6p" got >rest &&
	printf "%s\n" backup 700:backup 600:backup 700:backup trixie >expect &&
	test_cmp expect rest
'

test_expect_success 'BACKUP_TMPDIR is set in the image, and libmicrohttpd is there' '
	podman image inspect --format "{{range .Config.Env}}{{println .}}{{end}}" "$IMAGE" >env &&
	grep -qx "BACKUP_TMPDIR=/var/tmp/bk" env &&
	podman_ run --rm --entrypoint sh "$IMAGE" -c "ls /usr/lib/*/libmicrohttpd.so.12" >lib &&
	test -s lib
'

uid=$(podman_ run --rm --entrypoint id "$IMAGE" -u) &&
gid=$(podman_ run --rm --entrypoint id "$IMAGE" -g) ||
	test_skip_all "cannot run the image"

pg_start && pg_load_fixture || exit 1
# Files the container reads and writes belong to its user, as on a real host.
mkdir -p backups config/ssl secrets
echo "APP_ENV=production" >config/.env.production
echo "services: {}" >config/docker-compose.prod.yml
echo "events {}" >config/nginx.prod.conf
echo "CERT" >config/ssl/cert.pem
echo "KEY" >config/ssl/key.pem
printf '%s\n' "$POSTGRES_PASSWORD" >secrets/postgres_password
chown -R "$uid:$gid" backups config secrets
chmod 0700 backups
chmod 0400 secrets/postgres_password

container_env=(
	-e POSTGRES_HOST=127.0.0.1 -e POSTGRES_PORT="$POSTGRES_PORT"
	-e POSTGRES_DB="$POSTGRES_DB" -e POSTGRES_USER="$POSTGRES_USER"
	-e POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password
	-e BACKUP_SCHEDULE='* * * * *' -e BACKUP_MAIL_OUTBOX=/backups/outbox
	-e ADMIN_EMAILS=admin@example.com -e BACKUP_MIN_SIZE_MB=0 -e TZ=Asia/Bangkok
)
mounts=(
	-v "$TRASH/backups:/backups" -v "$TRASH/config:/config:ro"
	-v "$TRASH/secrets/postgres_password:/run/secrets/postgres_password:ro"
)

test_expect_success 'the container starts and stays up' '
	podman_ run -d --name "$NAME" --network=host "${mounts[@]}" "${container_env[@]}" \
		"$IMAGE" >cid &&
	i=0 &&
	until podman logs "$NAME" 2>&1 | grep -q "next backup at "; do
		i=$((i + 1)) && test $i -le 300 && sleep 0.1 || {
			podman logs "$NAME"; exit 1; }
	done &&
	test "$(podman inspect --format "{{.State.Running}}" "$NAME")" = true
'

test_expect_success 'the next run is logged in the container'"'"'s TZ (Asia/Bangkok)' '
	podman logs "$NAME" >log 2>&1 &&
	grep -q "INFO bk-cron\[1\]: next backup at 20[0-9-]*T[0-9:]*:00+07:00$" log
'

test_expect_success 'cron makes a backup: archive, status, mail in the outbox' '
	i=0 &&
	until test -s backups/.last_backup_success; do
		i=$((i + 1)) && test $i -le 1800 &&
		test "$(podman inspect --format "{{.State.Running}}" "$NAME")" = true &&
		sleep 0.1 || { podman logs "$NAME"; exit 1; }
	done &&
	ls backups/critical_backup_*.tar.gz >archives &&
	bk-verify "$(head -n 1 archives)" >/dev/null &&
	ls backups/outbox/*.eml >/dev/null
'

test_expect_success 'the archive holds the mounted configuration files' '
	tar -tzf "$(head -n 1 archives)" >members &&
	for f in .env.production docker-compose.prod.yml nginx.prod.conf ssl/cert.pem ssl/key.pem; do
		grep -qx "$f" members || { echo "missing $f"; exit 1; }
	done
'

test_expect_success 'the job output is in the container log and /var/log/backup.log' '
	podman logs "$NAME" >log 2>&1 &&
	grep -q "INFO bk-cron\[1\]: started /usr/local/bin/bk-run --env-file /run/bk/env" log &&
	grep -q "INFO bk-run\[[0-9]*\]: " log &&
	grep -q "^/backups/critical_backup_[0-9_]*\.tar\.gz$" log &&
	podman exec "$NAME" cat /var/log/backup.log >backup.log &&
	grep -q "INFO bk-run\[[0-9]*\]: " backup.log
'

test_expect_success 'the env file and crontab: mode 0600, the password only by reference' '
	podman exec "$NAME" stat -c "%a %U %n" /run/bk/env /run/bk/crontab >modes &&
	printf "%s\n" "600 backup /run/bk/env" "600 backup /run/bk/crontab" >expect &&
	test_cmp expect modes &&
	podman exec "$NAME" cat /run/bk/env >env &&
	grep -qx "POSTGRES_PASSWORD_FILE=\"/run/secrets/postgres_password\"" env &&
	! grep -q "^POSTGRES_PASSWORD=" env &&
	podman exec "$NAME" cat /run/bk/crontab >crontab &&
	grep -qx "\* \* \* \* \* /usr/local/bin/bk-run --env-file /run/bk/env" crontab
'

test_expect_success 'the password is in no log' '
	podman logs "$NAME" >log 2>&1 &&
	! grep -qF "$POSTGRES_PASSWORD" log backup.log env
'

test_expect_success 'podman healthcheck run: healthy' '
	podman_ healthcheck run "$NAME"
'

test_expect_success 'podman stop: the entrypoint ends its jobs and exits 0' '
	podman_ stop -t 30 "$NAME" >/dev/null &&
	test "$(podman inspect --format "{{.State.ExitCode}}" "$NAME")" = 0 &&
	podman logs "$NAME" 2>&1 | grep -q "INFO bk-cron\[1\]: stopped$"
'

# The compose example's service, as docker compose would start it: its
# env_file, environment, secrets and volumes turned into podman arguments,
# with only the database address and the mail outbox changed for the test.
test_expect_success 'the compose example: its settings pass the start-up checks' '
	mkdir -p project/ssl project/secrets volumes/backups volumes/outbox &&
	cat >project/.env.production <<-EOF &&
	POSTGRES_DB=$POSTGRES_DB
	POSTGRES_USER=$POSTGRES_USER
	POSTGRES_PASSWORD=not-this-one
	ADMIN_EMAILS=alice@example.com,bob@example.com
	SMTP_HOST=smtp.example.com
	SMTP_USER=backup@example.com
	SMTP_PASS=not-this-one
	SMTP_FROM=backup@example.com
	EOF
	echo "services: {}" >project/docker-compose.prod.yml &&
	echo "events {}" >project/nginx.prod.conf &&
	echo CERT >project/ssl/cert.pem &&
	printf "%s\n" "$POSTGRES_PASSWORD" >project/secrets/postgres_password &&
	echo smtp-secret-$$ >project/secrets/smtp_pass &&
	test_random_hex 64 >project/secrets/backup_link_secret &&
	chown -R "$uid:$gid" project volumes &&
	chmod 0400 project/secrets/* &&
	chmod 0700 volumes/backups &&
	mapfile -d "" -t args < <(compose_args POSTGRES_HOST=127.0.0.1 \
		POSTGRES_PORT="$POSTGRES_PORT" BACKUP_MAIL_OUTBOX=/backups/outbox \
		BACKUP_MIN_SIZE_MB=0) &&
	test ${#args[@]} -gt 20 &&
	podman_ run -d --name "$COMPOSED" --network=host "${args[@]}" "$IMAGE" >/dev/null &&
	i=0 &&
	until podman logs "$COMPOSED" 2>&1 | grep -q "next backup at "; do
		i=$((i + 1)) && test $i -le 300 &&
		test "$(podman inspect --format "{{.State.Running}}" "$COMPOSED")" = true &&
		sleep 0.1 || { podman logs "$COMPOSED"; exit 1; }
	done &&
	podman logs "$COMPOSED" >log 2>&1 &&
	grep -q "INFO bk-cron\[1\]: next backup at 20[0-9-]*T02:00:00+07:00$" log
'

test_expect_success "the compose example: secrets stay references in the jobs' env file" '
	podman exec "$COMPOSED" cat /run/bk/env >env &&
	for v in POSTGRES_PASSWORD SMTP_PASS BACKUP_LINK_SECRET; do
		grep -qx "${v}_FILE=\"/run/secrets/.*\"" env &&
		! grep -q "^$v=" env || { echo "$v:"; cat env; exit 1; }
	done
'

test_expect_success 'the compose example: docker compose exec backup bk-run, then healthy' '
	podman exec "$COMPOSED" bk-run >path &&
	grep -qx "/backups/critical_backup_[0-9_]*\.tar\.gz" path &&
	ls volumes/backups/outbox/*.eml >/dev/null &&
	tar -tzf volumes/backups/critical_backup_*.tar.gz >members &&
	grep -qx .env.production members &&
	podman_ healthcheck run "$COMPOSED"
'

# bad_container [BACKUPS_DIR] VAR=VALUE...: run the image with the good
# settings but these (and /backups from BACKUPS_DIR); it must exit 2 by itself
# (timeout is only a guard against a hang).
bad_container() {
	local backups=$TRASH/backups e=() a rc=0
	case $1 in /*) backups=$1; shift ;; esac
	for a in "$@"; do e+=(-e "$a"); done
	podman rm -f -t 0 "$BAD" >/dev/null 2>&1
	timeout 120 podman run --name "$BAD" --network=host -v "$backups:/backups" \
		"${mounts[@]:2}" "${container_env[@]}" "${e[@]}" "$IMAGE" >out 2>&1 || rc=$?
	podman rm -f -t 0 "$BAD" >/dev/null 2>&1
	[ $rc = 2 ] || { echo "exit $rc, not 2:"; cat out; return 1; }
}

test_expect_success 'POSTGRES_PORT=abc: the container exits 2 at once, naming it' '
	bad_container POSTGRES_PORT=abc &&
	grep -q "ERROR bk-run\[1\]: configuration: POSTGRES_PORT: ${SQ}abc${SQ} is not a whole number" out
'

test_expect_success 'BACKUP_SCHEDULE=bad: the container exits 2 at once, naming it' '
	bad_container BACKUP_SCHEDULE=bad &&
	grep -q "ERROR bk-cron\[1\]: configuration: BACKUP_SCHEDULE: ${SQ}bad${SQ} is not a cron expression" out
'

test_expect_success 'a /backups volume the container user cannot write: exit 2 naming BACKUP_DIR' '
	mkdir rootowned && chmod 0755 rootowned &&
	bad_container "$TRASH/rootowned" &&
	grep -q "ERROR bk-cron\[1\]: .*BACKUP_DIR: /backups belongs to uid 0, not to uid $uid that runs bk: refused" out &&
	grep -q "hint: chown $uid /backups, or set BACKUP_DIR to a directory of uid $uid" out
'

test_done
