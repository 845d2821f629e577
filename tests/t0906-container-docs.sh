#!/bin/bash
# The set-up steps of docs/BACKUP_SYSTEM.md, their ```bash blocks run as
# written in a project directory like the stack's (root-owned 0600
# .env.production with a Prisma DATABASE_URL, ssl/key.pem), bring up a
# working deployment: the container starts with a clean start-up report and
# makes a backup. `docker` is podman here: build as is; compose's up, logs
# and exec for the docs' compose file become podman run (the service's
# settings read from docs/docker-compose.backup.yml, the database address
# and a mail outbox set for the test), logs and exec.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'docs/BACKUP_SYSTEM.md set-up steps, run as written'

. "$TEST_DIRECTORY/lib-container.sh"
/usr/bin/python3 -c "import yaml" 2>/dev/null || test_skip_all "python3-yaml is not installed"
command -v openssl >/dev/null || test_skip_all "openssl is not installed"
container_setup
image_ready

NAME=bk-t0906-$$
test_atexit 'podman rm --ignore -f -t 0 $NAME >/dev/null 2>&1 || :'
pg_start && pg_load_fixture || exit 1

# The project: the repository's sources (the image builds from them) and the
# stack's files, as they are on a host.
mkdir -p project/docs project/ssl volumes/backups
cp -r "$BK_ROOT/Makefile" "$BK_ROOT/Dockerfile.backup" "$BK_ROOT/.dockerignore" \
	"$BK_ROOT/lib" "$BK_ROOT/cmd" project/
cp "$BK_ROOT/docs/docker-compose.backup.yml" project/docs/
(cd project && make -s clean >/dev/null 2>&1)
cat >project/.env.production <<EOF
NODE_ENV=production
DATABASE_URL=postgresql://$POSTGRES_USER:$POSTGRES_PASSWORD@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB?schema=public
POSTGRES_DB=$POSTGRES_DB
POSTGRES_USER=$POSTGRES_USER
ADMIN_EMAILS=alice@example.com
SMTP_HOST=smtp.example.com
SMTP_USER=backup@example.com
SMTP_FROM=backup@example.com
EOF
echo "services: {}" >project/docker-compose.prod.yml
echo "events {}" >project/nginx.prod.conf
echo CERT >project/ssl/cert.pem
echo KEY >project/ssl/key.pem
chmod 0600 project/.env.production project/ssl/key.pem
chown 34:34 volumes/backups && chmod 0700 volumes/backups

# docker, as far as the steps use it.
docker() {
	local args
	case $1 in
	build)
		shift
		podman build --format docker --pull=never --network=host "$@" ;;
	compose)
		shift
		while [ $# -gt 0 ]; do
			case $1 in -f|--project-directory) shift 2 ;; *) break ;; esac
		done
		case $1 in
		up)
			mapfile -d "" -t args < <(compose_args POSTGRES_HOST=127.0.0.1 \
				POSTGRES_PORT="$POSTGRES_PORT" BACKUP_MAIL_OUTBOX=/backups/outbox)
			podman rm -f -t 0 "$NAME" >/dev/null 2>&1
			podman run -d --name "$NAME" --network=host "${args[@]}" \
				"$(compose_image)" >/dev/null &&
			wait_log "$NAME" "next backup at " ;;
		logs) podman logs "$NAME" ;;
		exec) shift 2; podman exec "$NAME" "$@" ;;
		*) echo "docker compose $1: not in the test's docker" >&2; return 2 ;;
		esac ;;
	*) echo "docker $1: not in the test's docker" >&2; return 2 ;;
	esac
}
compose_image() {
	/usr/bin/python3 -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["services"]["backup"]["image"])' "$COMPOSE"
}
COMPOSE=$TRASH/project/docs/docker-compose.backup.yml

# The ```bash blocks of "Set it up", in order.
awk -v out="$TRASH/step" '
	/^## / { on = $0 == "## Set it up"; next }
	on && /^ *```bash$/ { n++; file = sprintf("%s-%02d.sh", out, n); inblock = 1; next }
	on && /^ *```/ && inblock { inblock = 0; close(file); next }
	inblock { sub(/^   /, ""); print > file }
' "$BK_ROOT/docs/BACKUP_SYSTEM.md"

test_expect_success 'the set-up has its three host steps' '
	ls step-*.sh >steps && test $(wc -l <steps) = 3
'

export DB_PASSWORD=$POSTGRES_PASSWORD SMTP_PASSWORD=smtp-secret-$$
export -f docker compose_args compose_image wait_log
export NAME POSTGRES_PORT COMPOSE TRASH
n=0
for step in step-*.sh; do
	n=$((n + 1))
	test_expect_success "step $(head -n 1 "$step" | cut -c1-60)" "
		cd \"\$TRASH/project\" && bash -e \"\$TRASH/$step\" >\"\$TRASH/$step.out\" 2>&1 ||
			{ cat \"\$TRASH/$step.out\"; exit 1; }
	"
done

test_expect_success 'the deployment is up: a clean start-up report, no error' '
	podman logs "$NAME" >log 2>&1 &&
	grep -q "INFO bk-cron\[1\]: start-up: PostgreSQL .* at 127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB, role $POSTGRES_USER .*; mail to the outbox /backups/outbox; S3 not configured$" log &&
	! grep -q " ERROR " log &&
	test "$(podman inspect --format "{{.State.Running}}" "$NAME")" = true
'

test_expect_success 'it backs up: the archive holds the config files, the mail names the host' '
	podman exec "$NAME" bk-run >path &&
	tar -tzf "volumes/backups/$(basename "$(cat path)")" >members &&
	grep -qx .env.production members && grep -qx ssl/key.pem members &&
	grep -q "smartaihub-prod" volumes/backups/outbox/*.eml &&
	test -s volumes/backups/.last_backup_success
'

test_done
