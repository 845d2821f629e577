#!/bin/bash
# docs/docker-compose.backup.yml agrees with the code: it parses, its
# healthcheck is the image's, it sets only variables bk reads, each *_FILE is
# a declared secret, and it mounts /backups and the configuration files that
# BACKUP_CONFIG_FILES names by default. (t0900 also runs its settings in the
# real container.)
. "$(dirname "$0")/lib.sh"
test_description 'the docker compose example'

/usr/bin/python3 -c "import yaml" 2>/dev/null || test_skip_all "python3-yaml is not installed"
COMPOSE=$BK_ROOT/docs/docker-compose.backup.yml
[ -f "$COMPOSE" ] || test_skip_all "no $COMPOSE"

# compose_get EXPR: print a Python expression over the service `s` and the
# whole document `doc`.
compose_get() {
	/usr/bin/python3 - "$COMPOSE" "$1" <<-\EOF
	import sys, yaml
	doc = yaml.safe_load(open(sys.argv[1]))
	s = doc["services"]["backup"]
	v = eval(sys.argv[2])
	if isinstance(v, (list, tuple)):
	    print("\n".join(str(x) for x in v))
	else:
	    print(v)
	EOF
}

test_expect_success 'it is YAML with a backup service built from Dockerfile.backup' '
	compose_get "s[\"build\"][\"dockerfile\"]" >got &&
	echo Dockerfile.backup >expect &&
	test_cmp expect got
'

test_expect_success 'its healthcheck is the image$SQ HEALTHCHECK' '
	compose_get "[s[\"healthcheck\"][k] for k in (\"interval\", \"timeout\", \"retries\")] + s[\"healthcheck\"][\"test\"]" >got &&
	printf "%s\n" 1h 10s 3 CMD bk-monitor >expect &&
	test_cmp expect got &&
	grep -qx "HEALTHCHECK --interval=1h --timeout=10s --retries=3 CMD \[\"bk-monitor\"\]" \
		"$BK_ROOT/Dockerfile.backup"
'

test_expect_success 'TZ is Asia/Bangkok and BACKUP_SCHEDULE the default' '
	compose_get "[s[\"environment\"][\"TZ\"], s[\"environment\"][\"BACKUP_SCHEDULE\"]]" >got &&
	printf "%s\n" Asia/Bangkok "0 2 * * *" >expect &&
	test_cmp expect got
'

test_expect_success 'every variable it sets is one bk reads (or NAME_FILE of one)' '
	sed -n "/^static const char \*const known\[\] = {/,/};/p" "$BK_ROOT/lib/core/config.c" |
		grep -o "\"[A-Z_]*\"" | tr -d "\"" >known &&
	test -s known &&
	echo TZ >>known &&
	compose_get "sorted(s[\"environment\"])" >names &&
	while read -r n; do
		grep -qx "${n%_FILE}" known || { echo "unknown variable $n"; exit 1; }
	done <names
'

test_expect_success 'each *_FILE is a secret the file declares and the service uses' '
	compose_get "[k + \" \" + v for k, v in s[\"environment\"].items() if k.endswith(\"_FILE\")]" >files &&
	test -s files &&
	compose_get "sorted(doc[\"secrets\"])" >declared &&
	compose_get "sorted(s[\"secrets\"])" >used &&
	test_cmp declared used &&
	while read -r name path; do
		case $path in /run/secrets/*) ;; *) echo "$name: $path"; exit 1 ;; esac &&
		grep -qx "${path#/run/secrets/}" declared || { echo "undeclared $path"; exit 1; }
	done <files
'

test_expect_success 'a name given by *_FILE is blanked, so .env.production cannot clash' '
	while read -r name path; do
		compose_get "repr(s[\"environment\"].get(\"${name%_FILE}\"))" >v &&
		echo "${SQ}${SQ}" >expect &&
		test_cmp expect v || exit 1
	done <files
'

test_expect_success 'volumes: /backups, and the default config files read-only under /config' '
	compose_get "s[\"volumes\"]" >volumes &&
	grep -qx "backups:/backups" volumes &&
	for f in .env.production docker-compose.prod.yml nginx.prod.conf ssl; do
		grep -qx "\./$f:/config/$f:ro" volumes || { echo "no /config/$f"; exit 1; }
	done &&
	grep -q "\"\.env\.production docker-compose\.prod\.yml nginx\.prod\.conf ssl\"" \
		"$BK_ROOT/lib/core/config.c"
'

test_done
