#!/bin/bash
# bk-export with BACKUP_SCOPE files: quoted, mixed-case, Thai and
# schema-qualified names, partitioned tables, windows on other columns,
# names that look like SQL injection, missing tables and BACKUP_STRICT,
# scope errors (exit 2 naming file and line).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-export with a custom scope'

test_need_programs bk-export
pg_start && pg_load_fixture || exit 1
pg_psql <<-\EOF || exit 1
CREATE SCHEMA "Other Schema";
CREATE TABLE "Other Schema"."Mixed Case" (id int PRIMARY KEY, "Value" text);
INSERT INTO "Other Schema"."Mixed Case" VALUES (1, 'one'), (2, E'two\nlines\t"q"');
CREATE TABLE events (id bigserial, at timestamptz NOT NULL, payload text)
	PARTITION BY RANGE (at);
CREATE TABLE events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2000-01-01');
CREATE TABLE events_new PARTITION OF events FOR VALUES FROM ('2000-01-01') TO (MAXVALUE);
INSERT INTO events (at, payload)
	SELECT now() - i * interval '10 days', 'event ' || i FROM generate_series(1, 30) i;
INSERT INTO events (at, payload) VALUES ('1999-01-01', 'ancient');
CREATE TABLE metrics (day date NOT NULL, n int) PARTITION BY RANGE (day);
CREATE TABLE metrics_all PARTITION OF metrics FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
INSERT INTO metrics SELECT DATE '2026-01-01' + i, i FROM generate_series(1, 12) i;
CREATE TABLE "evil""; DROP TABLE users; --" (x int);
INSERT INTO "evil""; DROP TABLE users; --" VALUES (42);
CREATE TABLE session_notes (id serial PRIMARY KEY, session_id uuid REFERENCES sessions (id));
INSERT INTO session_notes (session_id) SELECT id FROM sessions LIMIT 3;
EOF

cat >names.scope <<-\EOF
# custom scope: names in every form
profile.sql   "UserProfile", ข้อมูล      # mixed case and Thai
mixed.sql     "Other Schema"."Mixed Case"
events.csv    events   since=at:3 months
metrics.sql   public.metrics
evil.sql      "evil""; DROP TABLE users; --"
# round 1's meaning: nothing but the listed tables (and what they reference)
omit          *
EOF

test_expect_success 'names: quoted, Thai, other schema, partitioned, injection-shaped' '
	BACKUP_SCOPE=$TRASH/names.scope bk-export -o names >path 2>err &&
	cutoff=$(sed -n "s/^# window: events.csv at >= //p" names/MANIFEST) &&
	test -n "$cutoff" &&
	events=$(pg_query "SELECT count(*) FROM events WHERE at >= ${SQ}$cutoff${SQ}") &&
	test "$events" -gt 0 && test "$events" -lt 31 &&
	cat >expect <<-EOF &&
	profile.sql 20 public."UserProfile"
	profile.sql 5 public."ข้อมูล"
	mixed.sql 2 "Other Schema"."Mixed Case"
	events.csv $events public.events
	metrics.sql 12 public.metrics
	evil.sql 1 public."evil""; DROP TABLE users; --"
	referenced.sql 3 public.currencies
	referenced.sql 10 public.organizations
	referenced.sql 4 public.plans
	referenced.sql 200 public.users
	EOF
	sed -n "s/^# table: //p" names/MANIFEST >actual &&
	test_cmp expect actual &&
	grep -q "^# scope: $TRASH/names.scope$" names/MANIFEST
'

test_expect_success 'names: tables a rule leaves out but listed tables reference are added, transitively, saying why' '
	cat >expect <<-\EOF &&
	# added: public.currencies referenced by public.plans
	# added: public.organizations referenced by public.users
	# added: public.plans referenced by public.users
	# added: public.users referenced by public."UserProfile"
	EOF
	grep "^# added: " names/MANIFEST >actual &&
	test_cmp expect actual
'

test_expect_success 'names: COPY headers quote what needs quoting' '
	cat >expect <<-\EOF &&
	COPY public."UserProfile" ("userId", "displayName", "createdAt") FROM stdin;
	COPY public."ข้อมูล" ("รหัส", "ชื่อ", "label ""quoted""") FROM stdin;
	COPY "Other Schema"."Mixed Case" (id, "Value") FROM stdin;
	COPY public.metrics (day, n) FROM stdin;
	COPY public."evil""; DROP TABLE users; --" (x) FROM stdin;
	EOF
	cat names/profile.sql names/mixed.sql names/metrics.sql names/evil.sql | grep "^COPY" >actual &&
	test_cmp expect actual &&
	grep -q "^SELECT pg_catalog.setval(${SQ}public.\"ข้อมูล_รหัส_seq\"${SQ}, 5, true);$" names/profile.sql &&
	grep -q "^SELECT pg_catalog.setval(${SQ}public.events_id_seq${SQ}, 31, true);$" names/sequences.sql &&
	test "$(pg_query "SELECT count(*) FROM users")" = 200
'

test_expect_success 'names: a restore gives identical rows' '
	pg_psql -d postgres -c "CREATE DATABASE restored" &&
	pg_psql -d restored -f names/schema.sql >/dev/null &&
	for f in profile mixed metrics evil referenced; do
		pg_psql -d restored -f names/$f.sql >/dev/null || exit 1
	done &&
	pg_psql -d restored -c "\\copy public.events FROM ${SQ}names/events.csv${SQ} WITH (FORMAT csv, HEADER)" &&
	pg_psql -d restored -f names/sequences.sql >/dev/null &&
	pg_psql -d restored -f names/schema-post.sql >/dev/null &&
	for t in "public.\"UserProfile\"" "public.\"ข้อมูล\"" "\"Other Schema\".\"Mixed Case\"" \
		public.metrics "public.\"evil\"\"; DROP TABLE users; --\"" public.users public.plans; do
		q="COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" &&
		pg_psql -c "$q" >expect &&
		pg_psql -d restored -c "$q" >actual &&
		test_cmp expect actual || exit 1
	done &&
	cutoff=$(sed -n "s/^# window: events.csv at >= //p" names/MANIFEST) &&
	q="COPY (SELECT * FROM public.events WHERE at >= ${SQ}$cutoff${SQ} ORDER BY 1) TO STDOUT" &&
	pg_psql -c "$q" >expect &&
	pg_psql -d restored -c "COPY (SELECT * FROM public.events ORDER BY 1) TO STDOUT" >actual &&
	test_cmp expect actual
'

test_expect_success 'a syntax error: exit 2 naming file and line, nothing made' '
	printf "users.sql users\nbad.sql users;DROP TABLE users\n" >bad.scope &&
	BACKUP_SCOPE=$TRASH/bad.scope test_expect_code 2 bk-export >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-export\[[0-9]*\]: $TRASH/bad.scope:2: unexpected ${SQ};DROP${SQ} after table name users$" err &&
	test -z "$(ls -A "$BACKUP_TMPDIR")" &&
	test "$(pg_query "SELECT count(*) FROM users")" = 200
'

test_expect_success 'an unreadable BACKUP_SCOPE is exit 2' '
	BACKUP_SCOPE=$TRASH/no-such.scope test_expect_code 2 bk-export 2>err &&
	grep -q "ERROR bk-export\[[0-9]*\]: BACKUP_SCOPE: cannot read $TRASH/no-such.scope" err
'

test_expect_success 'injection-shaped names are names: missing tables, users intact' '
	cat >inj.scope <<-\EOF &&
	a.sql  users
	b.sql  "users;DROP TABLE users"
	c.sql  "users"";DROP TABLE users;--"
	EOF
	BACKUP_SCOPE=$TRASH/inj.scope bk-export -o inj >path 2>err &&
	test "$(pg_query "SELECT count(*) FROM users")" = 200 &&
	grep "^# warning: " inj/MANIFEST >actual &&
	cat >expect <<-EOF &&
	# warning: $TRASH/inj.scope:2: table "users;DROP TABLE users" (b.sql) does not exist; not backed up
	# warning: $TRASH/inj.scope:3: table "users"";DROP TABLE users;--" (c.sql) does not exist; not backed up
	EOF
	test_cmp expect actual &&
	test_path_is_missing inj/b.sql && test_path_is_missing inj/c.sql &&
	grep -q "WARN bk-export\[[0-9]*\]: $TRASH/inj.scope:2: table \"users;DROP TABLE users\" (b.sql) does not exist" err
'

test_expect_success 'a missing table is a warning: in the log and MANIFEST, exit 0' '
	printf "%s\n" "a.sql users, no_such_table" "b.sql active_users" >missing.scope &&
	BACKUP_SCOPE=$TRASH/missing.scope bk-export -o missing >path 2>err &&
	grep "^# warning: " missing/MANIFEST >actual &&
	cat >expect <<-EOF &&
	# warning: $TRASH/missing.scope:1: table no_such_table (a.sql) does not exist; not backed up
	# warning: $TRASH/missing.scope:2: table active_users (b.sql) is a view; not backed up
	EOF
	test_cmp expect actual &&
	grep -q "WARN bk-export\[[0-9]*\]: $TRASH/missing.scope:1: table no_such_table" "$BACKUP_LOG" &&
	grep "^# table: a.sql" missing/MANIFEST >actual &&
	echo "# table: a.sql 200 public.users" >expect &&
	test_cmp expect actual &&
	test_path_is_missing missing/b.sql
'

test_expect_success 'BACKUP_STRICT=1: a missing table is exit 1, nothing left' '
	BACKUP_STRICT=1 BACKUP_SCOPE=$TRASH/missing.scope test_expect_code 1 \
		bk-export -o strict >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-export\[[0-9]*\]: $TRASH/missing.scope: 2 listed tables are not found: no_such_table (a.sql, line 1) does not exist; active_users (b.sql, line 2) is a view$" err &&
	test_path_is_missing strict &&
	BACKUP_STRICT=1 BACKUP_SCOPE=$TRASH/missing.scope test_expect_code 1 bk-export 2>err &&
	test -z "$(ls -A "$BACKUP_TMPDIR")"
'

test_expect_success 'one table under two names is a scope error (exit 2)' '
	printf "%s\n" "a.sql users" "b.sql public.users" >dup.scope &&
	BACKUP_SCOPE=$TRASH/dup.scope test_expect_code 2 bk-export -o dup 2>err &&
	grep -q "ERROR bk-export\[[0-9]*\]: $TRASH/dup.scope:2: table public.users is already listed on line 1 (as users)$" err &&
	test_path_is_missing dup
'

test_expect_success 'a window column that is missing or not a time is exit 2' '
	echo "a.csv users since=nope:3 months" >col.scope &&
	BACKUP_SCOPE=$TRASH/col.scope test_expect_code 2 bk-export -o col 2>err &&
	grep -q "ERROR bk-export\[[0-9]*\]: $TRASH/col.scope:1: table public.users has no column nope for since=$" err &&
	echo "a.csv users since=email:3 months" >col.scope &&
	BACKUP_SCOPE=$TRASH/col.scope test_expect_code 2 bk-export -o col 2>err &&
	grep -q "ERROR bk-export\[[0-9]*\]: $TRASH/col.scope:1: since=email: column email of public.users is text, not a date or timestamp$" err &&
	test_path_is_missing col
'

test_expect_success 'a window on a date column and on a quoted column' '
	printf "%s\n" "m.csv metrics since=day:1 years" \
		"p.csv \"UserProfile\" since=\"createdAt\":2 weeks" >win.scope &&
	BACKUP_SCOPE=$TRASH/win.scope bk-export -o win 2>err &&
	grep -q "^# window: p.csv \"createdAt\" >= " win/MANIFEST &&
	cutoff=$(sed -n "s/^# window: m.csv day >= //p" win/MANIFEST) &&
	n=$(pg_query "SELECT count(*) FROM metrics WHERE day >= ${SQ}$cutoff${SQ}::timestamptz") &&
	grep -q "^# table: m.csv $n public.metrics$" win/MANIFEST &&
	test $(($(wc -l <win/m.csv) - 1)) = "$n"
'

test_expect_success 'sessions referenced by a listed table: added in full, so the archive restores' '
	echo "notes.sql session_notes" >notes.scope &&
	BACKUP_SCOPE=$TRASH/notes.scope bk-export -o notes 2>err &&
	grep "^# warning: \|^# added: " notes/MANIFEST >actual &&
	echo "# added: public.sessions referenced by public.session_notes" >expect &&
	test_cmp expect actual &&
	grep "^# table: referenced.sql " notes/MANIFEST >actual &&
	echo "# table: referenced.sql 50 public.sessions" >expect &&
	test_cmp expect actual
'

test_expect_success 'sessions listed explicitly are backed up' '
	echo "s.sql sessions" >s.scope &&
	BACKUP_SCOPE=$TRASH/s.scope bk-export -o s 2>err &&
	grep -q "^# table: s.sql $(pg_expected_count sessions) public.sessions$" s/MANIFEST
'

test_expect_success 'rules: first match wins, patterns in any schema and case, a partitioned table whole' '
	cat >rules.scope <<-\EOF &&
	# a scope of rules only: it replaces the built-in rules
	full    audit_logs
	omit    *_logs, logs, "Other Schema".*, sessions
	window  events, metrics  since=happened_at|at:30 days
	window  *profile  since=nothing_here:1 days
	EOF
	BACKUP_SCOPE=$TRASH/rules.scope bk-export -o rules >/dev/null 2>err &&
	sed -n "s/^# omitted: //p" rules/MANIFEST >actual &&
	cat >expect <<-EOF &&
	"Other Schema"."Mixed Case" 2 omit "Other Schema".* ($TRASH/rules.scope line 3)
	public.logs $(pg_expected_count logs) omit logs ($TRASH/rules.scope line 3)
	EOF
	test_cmp expect actual &&
	grep -q "^# table: audit_logs.sql $(pg_expected_count audit_logs) public.audit_logs$" rules/MANIFEST &&
	grep -q "^# added: public.sessions referenced by public.session_notes$" rules/MANIFEST &&
	cutoff=$(sed -n "s/^# window: events.csv at >= //p" rules/MANIFEST) &&
	n=$(pg_query "SELECT count(*) FROM events WHERE at >= ${SQ}$cutoff${SQ}") &&
	test "$n" -gt 0 &&
	grep -q "^# table: events.csv $n public.events$" rules/MANIFEST &&
	grep -q "^# window-rows: events.csv $n 31 0 -$" rules/MANIFEST &&
	grep -q "^# table: metrics.sql 12 public.metrics$" rules/MANIFEST &&
	grep -q "^# table: UserProfile.sql 20 public.\"UserProfile\"$" rules/MANIFEST &&
	grep -q "INFO bk-export\[[0-9]*\]: public.\"UserProfile\" matches $TRASH/rules.scope:5 but has no date or timestamp column nothing_here: backed up in full" err &&
	! grep -q "events_old\|events_new" rules/MANIFEST
'

test_expect_success 'rules: --plan prints the same classes, exports nothing' '
	BACKUP_SCOPE=$TRASH/rules.scope bk-export --plan >plan 2>err &&
	head -n 1 plan >actual &&
	echo "# plan: database smart_ai_hub, scope $TRASH/rules.scope, 24 tables: 20 full, 1 window, 1 added, 2 omitted" >expect &&
	test_cmp expect actual &&
	grep -q "^window   public.events  *~31  events.csv  at >= now() - 30 days$" plan &&
	grep -q "^added    public.sessions  *~50  referenced.sql  referenced by public.session_notes$" plan &&
	grep -q "^omitted  public.logs  *~100  -  omit logs ($TRASH/rules.scope line 3)$" plan &&
	test -z "$(ls -A "$BACKUP_TMPDIR")" &&
	test_expect_code 2 bk-export --plan -o x 2>err &&
	grep -q "plan exports nothing" err
'

test_expect_success 'a name written in the wrong case: the message shows the quoted spelling' '
	printf "%s\n" "p.sql userprofile" >case.scope &&
	BACKUP_SCOPE=$TRASH/case.scope bk-export -o case 2>err &&
	grep -q "^# warning: $TRASH/case.scope:1: table userprofile (p.sql) does not exist; did you mean public.\"UserProfile\"? a name in capitals must be quoted in BACKUP_SCOPE, as the table${SQ}s name in that line shows; not backed up$" case/MANIFEST &&
	grep -q "^# table: UserProfile.sql 20 public.\"UserProfile\"$" case/MANIFEST
'

test_expect_success 'a partition listed by itself: a warning naming why' '
	printf "%s\n" "e.sql events_new" >part.scope &&
	BACKUP_SCOPE=$TRASH/part.scope bk-export -o part 2>err &&
	grep -q "^# warning: $TRASH/part.scope:1: table events_new (e.sql) is a partition: name its partitioned table, which holds the rows of all its partitions; not backed up$" part/MANIFEST
'

test_done
