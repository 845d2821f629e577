#!/bin/bash
# bench/restore-time.sh: how long bk-unpack --restore takes for a backup of
# the size the spec targets (about 50 MB compressed). A throwaway cluster
# (durable settings: fsync on) gets the test schema and bench/gen.sql rows
# at RESTORE_BENCH_SCALE (0.38 of a GB of tables: ~50 MB archive); then
# bk-export, bk-pack, and, timed: bk-unpack --restore into an empty database,
# --restore --replace over it, and the manual psql steps for comparison.
# Not part of make check. RESTORE_BENCH_KEEP=1 keeps the directory.

set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
BIN=${RESTORE_BENCH_BIN:-$ROOT/bin}
SCALE=${RESTORE_BENCH_SCALE:-0.38}
PG_BINDIR=${RESTORE_BENCH_PG_BINDIR:-/usr/lib/postgresql/15/bin}

for v in $(compgen -e); do
	case $v in
	BACKUP_*|POSTGRES_*|PG*|DATABASE_URL|SMTP_*|ADMIN_EMAILS) unset "$v" ;;
	esac
done
export LC_ALL=C.UTF-8 TZ=UTC

say() { printf 'restore-time: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for b in initdb pg_ctl psql pg_isready; do
	[ -x "$PG_BINDIR/$b" ] || die "$PG_BINDIR/$b missing (run tools/install-deps)"
done
for t in bk-export bk-pack bk-unpack; do
	[ -x "$BIN/$t" ] || die "$BIN/$t missing (run make)"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/bk-restore-time.XXXXXX")
chmod 755 "$W"
DATA=$W/pg/data
as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
	if [ -f "$DATA/postmaster.pid" ]; then
		as_owner "$PG_BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 120 stop >/dev/null || :
	fi
	if [ "${RESTORE_BENCH_KEEP:-0}" = 1 ]; then say "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

mkdir -p "$W/pg/run" "$W/tmp" "$W/backups"
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
(umask 077 && echo "$PASSWORD" >"$W/pg/pwfile")
[ "$(id -u)" = 0 ] && chown -R postgres: "$W/pg"
as_owner "$PG_BINDIR/initdb" -D "$DATA" -U postgres --pwfile="$W/pg/pwfile" \
	--auth=scram-sha-256 -E UTF8 --no-locale >"$W/pg/initdb.log" 2>&1 ||
	die "initdb failed (log: $W/pg/initdb.log)"
rm -f "$W/pg/pwfile"
PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >>"$DATA/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$W/pg/run'
max_wal_size = 2GB
EOF
[ "$(id -u)" = 0 ] && chown postgres: "$DATA/postgresql.auto.conf"
as_owner "$PG_BINDIR/pg_ctl" -D "$DATA" -l "$W/pg/server.log" -w -t 120 start >/dev/null ||
	die "cannot start PostgreSQL (log: $W/pg/server.log)"

export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=$PORT POSTGRES_USER=postgres
export POSTGRES_PASSWORD=$PASSWORD POSTGRES_DB=smart_ai_hub
export BACKUP_DIR=$W/backups BACKUP_TMPDIR=$W/tmp BACKUP_LOG=$W/backup.log
export BACKUP_CONFIG_DIR=$W/config BACKUP_CONFIG_FILES=" "
sql() {
	PGPASSWORD=$PASSWORD "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
		-p "$PORT" -U postgres "$@"
}

t0=$SECONDS
say "generating the database (scale $SCALE)"
sql -d postgres -c 'CREATE DATABASE smart_ai_hub'
sql -d smart_ai_hub -f "$ROOT/tests/fixtures/schema.sql"
sql -d smart_ai_hub -v scale="$SCALE" -f "$BENCH/gen.sql"
sql -d smart_ai_hub -c 'VACUUM (FREEZE, ANALYZE)'
say "database ready in $((SECONDS - t0)) s"

"$BIN/bk-export" -o "$W/export" >/dev/null 2>>"$W/tools.err"
ARCHIVE=$("$BIN/bk-pack" -o "$W/backups/backup.tar.gz" "$W/export" 2>>"$W/tools.err")
rm -rf "$W/export"
archive_mb=$(awk -v b="$(stat -c %s "$ARCHIVE")" 'BEGIN { printf "%.1f", b / 1048576 }')
rows=$(tar -xzOf "$ARCHIVE" MANIFEST | awk '/^# table: / { n += $4 } END { print n }')
unpacked_mb=$(tar -xzOf "$ARCHIVE" MANIFEST | awk '!/^#/ { n += $2 } END { printf "%.1f", n / 1048576 }')

# timed LABEL CMD...: wall-clock seconds of CMD into $W/LABEL.secs.
timed() {
	local label=$1 s e
	shift
	s=$(date +%s.%N)
	"$@"
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f\n", e - s }' >"$W/$label.secs"
}
phases() {
	grep "bk-unpack\[.*times: " "$BACKUP_LOG" | tail -n 1 | sed 's/^.*times: //'
}

sql -d postgres -c 'CREATE DATABASE restored'
timed empty env POSTGRES_DB=restored "$BIN/bk-unpack" --restore "$ARCHIVE" >/dev/null 2>>"$W/tools.err"
phases_empty=$(phases)
timed replace env POSTGRES_DB=restored "$BIN/bk-unpack" --restore --replace "$ARCHIVE" \
	>/dev/null 2>>"$W/tools.err"
phases_replace=$(phases)

# The manual way of BACKUP_INFO.txt / docs, for comparison: psql per file.
manual() {
	local d=$W/manual
	mkdir -p "$d"
	tar -xzf "$ARCHIVE" -C "$d"
	sql -d postgres -c 'CREATE DATABASE manual'
	(
		cd "$d"
		sql -d manual -1 -f schema.sql
		for f in $(awk '/^# table: .*\.sql / { print $3 }' MANIFEST | uniq); do
			sql -d manual -1 -f "$f"
		done
		awk '/^# table: .*\.csv / { print $3, $5 }' MANIFEST | while read -r f t; do
			sql -d manual -c "\\copy $t FROM '$f' WITH (FORMAT csv, HEADER)"
		done
		[ ! -f sequences.sql ] || sql -d manual -f sequences.sql
		sql -d manual -1 -f schema-post.sql
	)
}
timed manual manual >/dev/null

cat <<EOF
bk restore time: archive $archive_mb MB ($unpacked_mb MB unpacked, $rows rows), $(nproc) cores, fsync on
  bk-unpack --restore, empty database      $(cat "$W/empty.secs") s   ($phases_empty)
  bk-unpack --restore --replace            $(cat "$W/replace.secs") s   ($phases_replace)
  manual: tar + psql -f / \\copy per file   $(cat "$W/manual.secs") s   (not one transaction)
EOF
