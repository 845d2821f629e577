# Helpers for the bk-prune tests (t051x), sourced after lib.sh: small real
# archives in the bk layout that bk-verify passes, damaged ones it refuses,
# and archives placed under the name of a given local time.

# prune_make_archive FILE: MANIFEST first, BACKUP_INFO.txt, data. Leaves the
# plain tar in $TRASH/good.tar for damaged variants.
prune_make_archive() {
	local d=$TRASH/src f r
	rm -rf "$d" && mkdir -p "$d" &&
	printf 'COPY public.users (id, email) FROM stdin;\n1\ta@example.com\n2\tb@example.com\n\\.\n' >"$d/users.sql" &&
	printf 'id,amount\n1,10.00\n' >"$d/purchases.csv" &&
	printf 'bk test backup\n' >"$d/BACKUP_INFO.txt" &&
	{
		echo "# format: bk 1"
		echo "# created: $(date -u +%Y-%m-%dT%H:%M:%S+00:00)"
		echo "# database: test"
		echo "# table: users.sql 2 public.\"users\""
		echo "# table: purchases.csv 1 public.\"purchases\""
		for f in BACKUP_INFO.txt users.sql purchases.csv; do
			case $f in users.sql) r=2 ;; purchases.csv) r=1 ;; *) r=- ;; esac
			echo "$(sha256sum <"$d/$f" | cut -d" " -f1) $(stat -c %s "$d/$f") $r $f"
		done
	} >"$d/MANIFEST" &&
	chmod 600 "$d"/* &&
	tar -C "$d" --format=ustar --owner=0 --group=0 -cf "$TRASH/good.tar" \
		MANIFEST BACKUP_INFO.txt users.sql purchases.csv &&
	gzip -n -c "$TRASH/good.tar" >"$1"
}

# $TRASH/good.tar.gz, and $TRASH/corrupt.tar.gz: intact gzip, wrong content
# (a member differs from its MANIFEST line).
prune_make_archives() {
	prune_make_archive "$TRASH/good.tar.gz" &&
	sed 's/a@example.com/x@example.com/' "$TRASH/good.tar" | gzip -n >"$TRASH/corrupt.tar.gz"
}

# prune_place KIND "YYYY-MM-DD HH:MM"...: an archive in $BACKUP_DIR named for
# each local time; KIND good, corrupt or truncated (cut after 100 bytes).
prune_place() {
	local kind=$1 when name
	shift
	for when in "$@"; do
		name=$BACKUP_DIR/critical_backup_$(echo "$when" | tr -d ':-' | tr ' ' _)00.tar.gz
		case $kind in
		good) cp "$TRASH/good.tar.gz" "$name" ;;
		corrupt) cp "$TRASH/corrupt.tar.gz" "$name" ;;
		truncated) head -c 100 "$TRASH/good.tar.gz" >"$name" ;;
		*) echo "prune_place: unknown kind $kind" >&2; return 1 ;;
		esac || return 1
	done
}

# prune_now "YYYY-MM-DD HH:MM": unix seconds of that local time.
prune_now() {
	date -d "$1" +%s
}

# Everything under BACKUP_DIR, sorted.
prune_listing() {
	(cd "$BACKUP_DIR" && find . | LC_ALL=C sort)
}
