# A real nginx for the download-link tests, sourced after lib.sh. It runs in
# the foreground of a background job (daemon off) with a generated nginx.conf
# whose only location is docs/nginx-backup-location.conf, the block the
# documentation tells administrators to install, with the secret and the
# archive directory filled in. Access log lines: "STATUS [$secure_link] URI"
# ("-" when the signature is missing or wrong, "0" expired, "1" good).

NGINX_TEST_BIN=${BK_TEST_NGINX:-/usr/sbin/nginx}
NGINX_TEST_DIR=$TRASH/nginx

# nginx_start SERVE_DIR SECRET: serve SERVE_DIR under /backups/ on a free
# loopback port. Sets NGINX_TEST_URL (http://127.0.0.1:PORT), NGINX_TEST_PID.
nginx_start() {
	local serve=$1 secret=$2 tries=0 i port block=$BK_ROOT/docs/nginx-backup-location.conf
	[ -x "$NGINX_TEST_BIN" ] ||
		test_skip_all "nginx not installed ($NGINX_TEST_BIN; tools/install-deps)"
	"$NGINX_TEST_BIN" -V 2>&1 | grep -q -- --with-http_secure_link_module ||
		test_skip_all "this nginx lacks the secure_link module"
	[ -f "$block" ] || { echo "Bail out! missing $block"; exit 1; }
	mkdir -p "$NGINX_TEST_DIR/logs" "$NGINX_TEST_DIR/tmp"
	# The documented block, with this test's secret and directory.
	sed -e "s|CHANGE_ME_BACKUP_LINK_SECRET|$secret|" \
	    -e "s|alias /backups/;|alias ${serve%/}/;|" \
	    "$block" >"$NGINX_TEST_DIR/backup-location.conf"
	grep -q "$secret" "$NGINX_TEST_DIR/backup-location.conf" ||
		{ echo "Bail out! the secret did not go into the nginx block"; exit 1; }
	test_atexit nginx_stop
	while :; do
		tries=$((tries + 1))
		port=$(test_free_port) || test_skip_all "cannot find a free port for nginx"
		rm -f "$NGINX_TEST_DIR/nginx.pid"
		cat >"$NGINX_TEST_DIR/nginx.conf" <<-EOF
		daemon off;
		worker_processes 1;
		$([ "$(id -u)" = 0 ] && echo "user root root;")
		error_log $NGINX_TEST_DIR/logs/error.log info;
		pid $NGINX_TEST_DIR/nginx.pid;
		events { worker_connections 64; }
		http {
		    log_format bk '\$status [\$secure_link] \$uri';
		    access_log $NGINX_TEST_DIR/logs/access.log bk;
		    client_body_temp_path $NGINX_TEST_DIR/tmp/body;
		    proxy_temp_path $NGINX_TEST_DIR/tmp/proxy;
		    fastcgi_temp_path $NGINX_TEST_DIR/tmp/fastcgi;
		    uwsgi_temp_path $NGINX_TEST_DIR/tmp/uwsgi;
		    scgi_temp_path $NGINX_TEST_DIR/tmp/scgi;
		    server {
		        listen 127.0.0.1:$port;
		        server_name localhost;
		        include $NGINX_TEST_DIR/backup-location.conf;
		    }
		}
		EOF
		"$NGINX_TEST_BIN" -e "$NGINX_TEST_DIR/logs/error.log" -p "$NGINX_TEST_DIR/" \
			-c "$NGINX_TEST_DIR/nginx.conf" </dev/null >>"$NGINX_TEST_DIR/logs/stderr.log" 2>&1 &
		NGINX_TEST_PID=$!
		# nginx writes its pid file after it has bound the port; poll for
		# it, and stop polling if nginx exited (port taken, bad config).
		i=0
		while [ ! -s "$NGINX_TEST_DIR/nginx.pid" ] && kill -0 "$NGINX_TEST_PID" 2>/dev/null; do
			i=$((i + 1))
			[ $i -le 600 ] || break
			sleep 0.05
		done
		if [ -s "$NGINX_TEST_DIR/nginx.pid" ] && kill -0 "$NGINX_TEST_PID" 2>/dev/null; then
			break
		fi
		nginx_stop
		if [ $tries -ge 3 ]; then
			sed 's/^/# /' "$NGINX_TEST_DIR/logs/error.log" "$NGINX_TEST_DIR/logs/stderr.log"
			test_skip_all "nginx did not start"
		fi
		echo "# nginx_start: port $port did not work, trying another"
	done
	NGINX_TEST_URL=http://127.0.0.1:$port
}

nginx_stop() {
	[ -n "${NGINX_TEST_PID:-}" ] || return 0
	kill -0 "$NGINX_TEST_PID" 2>/dev/null || return 0
	kill -QUIT "$NGINX_TEST_PID" && wait "$NGINX_TEST_PID" 2>/dev/null
	return 0
}
