#!/bin/bash
# A real Prometheus server on loopback scrapes bk-monitor --serve: its HTTP
# API shows up == 1 and the bk metrics with the values of the status files,
# unknown values stay absent, and the alert rules of docs/prometheus load and
# match. Skipped when prometheus is not installed.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-serve.sh"
test_description 'Prometheus scrapes bk-monitor --serve'

PROMETHEUS=${BK_TEST_PROMETHEUS:-/usr/bin/prometheus}
[ -x "$PROMETHEUS" ] || test_skip_all "prometheus is not installed ($PROMETHEUS; Debian package prometheus)"
RULES=$BK_ROOT/docs/prometheus/bk-alerts.yml

serve_fresh_dir
serve_ok_run 7200 $((12 * MB))
serve_fail_run 60 "mail: cannot connect to smtp.example.com:587"
serve_start || test_skip_all "bk-monitor --serve did not start: $(cat serve.err)"
test_atexit serve_stop

PROM_PORT=$(test_free_port)
cat >prometheus.yml <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: bk
    static_configs:
      - targets: ['127.0.0.1:$SERVE_PORT']
EOF
"$PROMETHEUS" --config.file=prometheus.yml --storage.tsdb.path="$TRASH/tsdb" \
	--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
	>prometheus.log 2>&1 &
echo $! >prometheus.pid
test_atexit 'kill "$(cat "$TRASH/prometheus.pid")"; wait "$(cat "$TRASH/prometheus.pid")" 2>/dev/null; true'

# query EXPR: the API's answer for an instant query, in `answer`.
query() {
	curl -s -G -o answer --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query"
}

# value_is EXPR VALUE: the query has one sample, VALUE.
value_is() {
	query "$1" &&
	/usr/bin/python3 - "$2" <<-\EOF
	import json, sys
	r = json.load(open("answer"))["data"]["result"]
	sys.exit(0 if len(r) == 1 and r[0]["value"][1] == sys.argv[1] else 1)
	EOF
}

prometheus_up() {
	kill -0 "$(cat prometheus.pid)" || { cat prometheus.log >&2; exit 1; }
	curl -s -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready"
}
serve_poll prometheus_up || test_skip_all "prometheus did not start: $(tail -n 5 prometheus.log)"

test_expect_success 'the scrape happened: up == 1 for the bk target' '
	serve_poll value_is "up{job=\"bk\",instance=\"127.0.0.1:$SERVE_PORT\"}" 1
'

test_expect_success 'the bk metrics have the values of the status files' '
	value_is bk_healthy 0 &&
	value_is bk_backup_runs_total 2 &&
	value_is bk_backup_runs_failed_total 1 &&
	value_is bk_backup_success_ratio 0.5 &&
	value_is bk_last_backup_size_bytes $((12 * MB)) &&
	value_is bk_last_success_timestamp_seconds $((serve_now - 7200)) &&
	query bk_backup_dir_free_bytes &&
	grep -q "\"__name__\":\"bk_backup_dir_free_bytes\"" answer
'

test_expect_success 'promtool finds nothing to lint in /metrics' '
	curl -s -o metrics "http://127.0.0.1:$SERVE_PORT/metrics" &&
	/usr/bin/promtool check metrics <metrics >lint 2>&1 &&
	test_cmp /dev/null lint
'

test_expect_success 'unknown values are absent, not 0: no off-site copy, no restore test' '
	for m in bk_offsite_last_success_timestamp_seconds bk_restore_test_success \
		bk_restore_test_timestamp_seconds; do
		query "$m" &&
		/usr/bin/python3 -c "import json; assert json.load(open(\"answer\"))[\"data\"][\"result\"] == []" || exit 1
	done
'

test_expect_success 'a new status is scraped: the next good run makes bk_healthy 1' '
	serve_ok_run 30 $((13 * MB)) &&
	serve_poll value_is bk_healthy 1 &&
	value_is bk_backup_runs_total 3
'

test_expect_success 'the example alert rules load, and BackupUnhealthy matches bk_healthy 0' '
	/usr/bin/promtool check rules "$RULES" &&
	serve_fail_run 10 "verify: users.sql: checksum mismatch" &&
	serve_poll value_is bk_healthy 0 &&
	alert_pending() {
		curl -s -o alerts "http://127.0.0.1:$PROM_PORT/api/v1/alerts" &&
		/usr/bin/python3 -c "
import json, sys
a = json.load(open(\"alerts\"))[\"data\"][\"alerts\"]
names = sorted(x[\"labels\"][\"alertname\"] for x in a)
sys.exit(0 if names == [\"BackupUnhealthy\"] else 1)"
	} &&
	serve_poll alert_pending
'

test_done
