#!/bin/bash
# The shell-script backup that issue 7 measures bk against, as an admin would
# write it: pg_dump --table=T for each full table, psql \COPY of the 3-month
# window of each transaction table, then tar -czf (gzip's default level, 6).
# No verification, no consistency between tables.
#
# usage: baseline.sh ARCHIVE [CONFIG_DIR]
# The database comes from PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE.
# BENCH_RUSAGE=DIR: each program runs under /usr/bin/time, appending
# "seconds maxrss_kb" to DIR/NAME.time (for bench/run).

set -euo pipefail

archive=$1
config_dir=${2:-}
bindir=${BENCH_PG_BINDIR:-/usr/lib/postgresql/15/bin}

full_tables="users user_roles organizations agencies referrals exchange_rates system_settings"
window_tables="credit_transactions point_transactions purchases transfers"

# m NAME CMD...: run CMD, measured when bench/run asks for it.
m() {
	local name=$1
	shift
	if [ -n "${BENCH_RUSAGE:-}" ]; then
		/usr/bin/time -a -o "$BENCH_RUSAGE/$name.time" -f '%e %M %U %S' "$@"
	else
		"$@"
	fi
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/baseline.XXXXXX")
trap 'rm -rf "$dir"' EXIT

for t in $full_tables; do
	m pg_dump "$bindir/pg_dump" --table="$t" --file="$dir/$t.sql"
done
for t in $window_tables; do
	m psql "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -c "\\COPY (SELECT * FROM $t WHERE created_at >= now() - interval '3 months') TO '$dir/$t.csv' CSV HEADER"
done
if [ -n "$config_dir" ]; then
	cp -R "$config_dir/." "$dir/"
fi
m tar tar -czf "$archive" -C "$dir" .
