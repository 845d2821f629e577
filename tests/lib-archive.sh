# Backup archives built by the tests themselves (GNU tar + gzip, or Python's
# tarfile for hostile members), following the archive contract of the brief,
# so bk-verify and bk-unpack tests do not depend on bk-export or bk-pack.
# Source after lib.sh.

# ar_sample DIR: an export-like directory: schema files, COPY-block .sql files,
# a CSV with quoted newlines, BACKUP_INFO.txt and config files (ssl/ too).
ar_sample() {
	local d=$1
	mkdir -p "$d/ssl"
	cat >"$d/schema.sql" <<-\EOF
	--
	-- PostgreSQL database dump
	--
	CREATE TABLE public.users (id bigint NOT NULL, email text, "displayName" text);
	CREATE TABLE public.organizations (id uuid NOT NULL, name text);
	EOF
	printf 'ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);\n' \
		>"$d/schema-post.sql"
	# printf keeps the tabs and the COPY escapes (\N, \n, \\) literal.
	{
		printf -- '--\n-- bk data dump\n--\n\nSET client_encoding = %s;\n\n' "'UTF8'"
		printf 'COPY public.users (id, email, "displayName") FROM stdin;\n'
		printf '1\talice@example.com\tAlice\n'
		printf '2\tbob@example.com\t\\N\n'
		printf '3\tcarol@example.com\tline one\\nline two\\ttab \\\\ back\n'
		printf '4\t\xe0\xb8\x97\xe0\xb8\xa2@example.com\t\xe0\xb8\x97\xe0\xb8\xa2\n'
		printf '\\.\n\n'
		printf "SELECT pg_catalog.setval('public.users_id_seq', 4, true);\n"
	} >"$d/users.sql"
	{
		printf 'COPY public.organizations (id, name) FROM stdin;\n'
		printf 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\tAcme\n'
		printf 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12\t\n'
		printf '\\.\n'
	} >"$d/organization.sql"
	printf 'id,amount,note,created_at\n1,10.50,"top-up, card",2026-11-01\n2,-3,"multi\nline ""quoted""",2026-11-02\n3,0,,2026-11-03\n' \
		>"$d/credit_transactions.csv"
	printf 'Backup of smart_ai_hub\nRestore: psql -f schema.sql ...\n' >"$d/BACKUP_INFO.txt"
	printf 'POSTGRES_PASSWORD=secret\n' >"$d/.env.production"
	printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$d/ssl/cert.pem"
}

# The members of ar_sample after MANIFEST, in archive order ("ssl" is a directory).
AR_MEMBERS="BACKUP_INFO.txt schema.sql users.sql organization.sql credit_transactions.csv schema-post.sql .env.production ssl ssl/cert.pem"

# ar_manifest DIR [PATH...]: write DIR/MANIFEST for the regular files among
# PATHs (default $AR_MEMBERS): sha256, bytes, rows (COPY rows of top-level
# .sql files other than schema*.sql, records of .csv files, else "-").
ar_manifest() {
	local d=$1
	shift
	[ $# -gt 0 ] || set -- $AR_MEMBERS
	/usr/bin/python3 - "$d" "$@" <<-\EOF
	import csv, hashlib, io, os, sys
	d, paths = sys.argv[1], sys.argv[2:]
	out = ["# format: bk 1", "# created: 2026-11-25T02:00:03+00:00", "# host: db",
	       "# database: smart_ai_hub"]
	lines = []
	for p in paths:
	    f = os.path.join(d, p)
	    if os.path.isdir(f):
	        continue
	    data = open(f, "rb").read()
	    rows = "-"
	    top = "/" not in p
	    if top and p.endswith(".sql") and not p.startswith("schema"):
	        n, inside = 0, False
	        for line in data.split(b"\n"):
	            if inside:
	                if line == b"\\.":
	                    inside = False
	                else:
	                    n += 1
	            elif line.startswith(b"COPY "):
	                inside = True
	        rows = str(n)
	    elif top and p.endswith(".csv"):
	        rows = str(len(list(csv.reader(io.StringIO(data.decode(), newline="")))) - 1)
	    if p == ".env.production" or p.startswith("ssl/"):
	        out.append("# config: " + p)
	    lines.append("%s %d %s %s" % (hashlib.sha256(data).hexdigest(), len(data), rows, p))
	open(os.path.join(d, "MANIFEST"), "w").write("\n".join(out + lines) + "\n")
	EOF
}

# ar_pack DIR OUT [MEMBER...]: GNU tar + gzip of the members (default:
# MANIFEST then $AR_MEMBERS), no recursion, in that order.
ar_pack() {
	local d=$1 out=$2
	shift 2
	[ $# -gt 0 ] || set -- MANIFEST $AR_MEMBERS
	tar --format=pax --no-recursion --owner=0 --group=0 --numeric-owner \
		-C "$d" -cf - "$@" | gzip -6 >"$out"
}

# ar_good OUT: sample + MANIFEST + archive, in a directory named after OUT.
ar_good() {
	ar_sample "$1.d" && ar_manifest "$1.d" && ar_pack "$1.d" "$1"
}

# ar_tarpy OUT: a .tar.gz from a member list on stdin, one per line:
#   file NAME [SOURCE]        regular file (SOURCE defaults to NAME)
#   text NAME STRING          regular file holding STRING
#   zeros NAME SIZE           SIZE zero bytes, streamed (for bombs)
#   dir NAME | fifo NAME | chardev NAME
#   symlink NAME TARGET | hardlink NAME TARGET
# Names are stored exactly as given (../x, /etc/x included).
ar_tarpy() {
	/usr/bin/python3 -c '
import io, sys, tarfile
class Zeros(io.RawIOBase):
    def __init__(self, n): self.n = n
    def readable(self): return True
    def readinto(self, b):
        k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
out = tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT, compresslevel=6)
for line in sys.stdin.read().splitlines():
    if not line.strip():
        continue
    kind, name, *rest = line.split(" ", 2)
    ti = tarfile.TarInfo(name)
    ti.mode, ti.mtime = 0o600, 1764036003
    data = None
    if kind == "file":
        data = open(rest[0] if rest else name, "rb").read()
    elif kind == "text":
        data = rest[0].encode()
    if data is not None:
        ti.size = len(data)
        out.addfile(ti, io.BytesIO(data))
    elif kind == "zeros":
        ti.size = int(rest[0])
        out.addfile(ti, io.BufferedReader(Zeros(ti.size)))
    else:
        ti.type = {"dir": tarfile.DIRTYPE, "fifo": tarfile.FIFOTYPE,
                   "chardev": tarfile.CHRTYPE, "symlink": tarfile.SYMTYPE,
                   "hardlink": tarfile.LNKTYPE}[kind]
        if kind == "dir":
            ti.mode = 0o700
        if rest:
            ti.linkname = rest[0]
        out.addfile(ti)
out.close()
' "$1"
}

# ar_sha NAME: the sha256 of a file.
ar_sha() {
	sha256sum "$1" | cut -c1-64
}

# ar_reason FILE: the message of the ERROR line(s) in a tool's stderr.
ar_reason() {
	sed -n 's/^[^ ]* ERROR [a-z-]*\[[0-9]*\]: //p' "$1"
}

# ar_many_tables DIR N: an export-like directory as bk-export writes it for a
# database of N tables (no PostgreSQL needed): half the tables in files of
# their own (t_1.sql, ...), the other half as COPY blocks of one bulk.sql,
# every table with a "# table:" line, some omitted, and a MANIFEST over 1 MiB
# once N is in the tens of thousands.
ar_many_tables() {
	/usr/bin/python3 - "$1" "$2" <<-\EOF
	import hashlib, os, sys
	d, n = sys.argv[1], int(sys.argv[2])
	os.makedirs(d)
	def write(name, data):
	    open(os.path.join(d, name), "wb").write(data)
	    return "%s %d" % (hashlib.sha256(data).hexdigest(), len(data))
	meta = ["# format: bk 1", "# created: 2026-11-25T02:00:03+00:00", "# host: db",
	        "# database: smart_ai_hub", "# scope: built-in scope"]
	members = [write("schema.sql", b"-- schema\n") + " - schema.sql"]
	bulk, bulk_rows = [], 0
	for i in range(1, n + 1):
	    q = "public.t_%d" % i
	    rows = i % 3
	    block = ("COPY %s (id) FROM stdin;\n" % q +
	             "".join("%d\n" % r for r in range(rows)) + "\\.\n\n").encode()
	    if i % 2:
	        f = "t_%d.sql" % i
	        members.append("%s %d %s" % (write(f, block), rows, f))
	    else:
	        f = "bulk.sql"
	        bulk.append(block)
	        bulk_rows += rows
	    meta.append("# table: %s %d %s" % (f, rows, q))
	for i in range(1, n // 100 + 1):
	    meta.append("# omitted: public.t_log_%d 0 omit *_log (built-in scope line 5)" % i)
	members.append(write("bulk.sql", b"".join(bulk)) + " %d bulk.sql" % bulk_rows)
	members.append(write("schema-post.sql", b"-- post\n") + " - schema-post.sql")
	write("MANIFEST", ("\n".join(meta + members) + "\n").encode())
	EOF
}
