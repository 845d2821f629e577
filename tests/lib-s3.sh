# A real S3 store for the off-site copy tests, sourced after lib.sh: Ceph's
# radosgw from Debian 13 with its dbstore backend (no Ceph cluster), in a
# podman container of debian:trixie-slim on the host network, on a free
# loopback port, removed at exit. It checks SigV4 signatures and
# x-amz-content-sha256 as AWS does (npm's s3rver and moto accept anything).
# The image (bk-test-radosgw) is built once and kept: ~35 s the first time.
#
# s3_start                  start it; sets S3_ENDPOINT S3_AK S3_SK S3_PORT S3_NAME
# s3_curl ARGS...           curl --aws-sigv4 with the keys: the independent client
# s3_mkbucket NAME          create a bucket
# s3_ls BUCKET [PREFIX]     print the keys under PREFIX, one a line
# s3_get BUCKET KEY FILE    download KEY into FILE with curl
# s3_upload_id LOG KEY      the upload id of KEY's last multipart upload in LOG
# s3_upload_gone B KEY ID   the store holds no such multipart upload (ListParts: 404)
# s3_env BUCKET [PREFIX]    export BACKUP_S3_* and AWS_* for bk to use this store
# s3_run_setup BUCKET PREFIX  all of that and PostgreSQL for a test of bk-run's upload
# s3_progress_ok LOG N      LOG's upload progress: 1 to N lines, never back, 100% last
# s3_parts_of FILE          how many parts of BK_S3_PART_SIZE bytes FILE makes

S3_IMAGE=${BK_TEST_S3_IMAGE:-localhost/bk-test-radosgw:latest}
S3_AK=BKTESTACCESSKEY
S3_SK=bk-test-secret-$(test_random_hex 16)
S3_EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
S3_DIR=$TRASH/s3

# Podman and the base image: the workplace's container-setup makes them when
# the tests run as root (as tests/t0900-container.sh finds it).
_s3_need_podman() {
	local setup=${BK_CONTAINER_SETUP:-} s
	for s in "$BK_ROOT/../shared/tools/container-setup" /work/shared/tools/container-setup; do
		[ -n "$setup" ] || { [ -x "$s" ] && [ -f "$s" ] && setup=$s; }
	done
	if { ! command -v podman >/dev/null ||
	     ! podman image exists docker.io/library/debian:trixie-slim; } &&
	   [ "$(id -u)" = 0 ] && [ -n "$setup" ]; then
		# one at a time: tests run in parallel (prove -j2) on a new machine
		(
			flock 9
			"$setup" >"$TRASH/container-setup.log" 2>&1
		) 9>"${TMPDIR:-/tmp}/bk-test-container-setup.lock" ||
			test_skip_all "container-setup failed: $(tail -n 1 "$TRASH/container-setup.log")"
	fi
	command -v podman >/dev/null ||
		test_skip_all "no podman for the radosgw container (run shared/tools/container-setup as root)"
	podman image exists docker.io/library/debian:trixie-slim ||
		test_skip_all "no local debian:trixie-slim image (run shared/tools/container-setup as root)"
}

# Build the image once; concurrent tests wait for one another's build.
_s3_image() {
	podman image exists "$S3_IMAGE" && return 0
	mkdir -p "$S3_DIR/build"
	(
		flock 9
		podman image exists "$S3_IMAGE" ||
			podman build --pull=never --network=host -t "$S3_IMAGE" \
				-f "$TEST_DIRECTORY/radosgw.Containerfile" "$S3_DIR/build" >"$S3_DIR/build.log" 2>&1
	) 9>"${TMPDIR:-/tmp}/bk-test-radosgw.build.lock" ||
		test_skip_all "cannot build the radosgw image: $(tail -n 1 "$S3_DIR/build.log")"
}

# _s3_answers: radosgw answers HTTP on its port (any status).
_s3_answers() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$S3_ENDPOINT/" 2>/dev/null)" != 000 ]
}

s3_start() {
	local tries=0 i opts
	_s3_need_podman
	_s3_image
	S3_NAME=bk-$TEST_NAME-s3-$$
	test_atexit 's3_stop'
	opts="--no-mon-config --rgw-backend-store=dbstore --rgw-config-store=dbstore"
	opts="$opts --dbstore-db-dir=/d -c /dev/null --rgw-data=/d --run-dir=/d --log-file=/d/rgw.log"
	# The smallest part S3 allows is 5 MiB; tests use smaller ones.
	opts="$opts --rgw-multipart-min-part-size=4096"
	# BUCKET.localhost:PORT is virtual-host style (libcurl resolves *.localhost)
	opts="$opts --rgw-dns-name=localhost"
	# One request at a time: radosgw 18.2.7's dbstore loses parts of a
	# multipart upload sent in parallel (each answered 200, then missing from
	# ListParts: InvalidPart; the same with curl alone). bk still sends its
	# parts in parallel; they queue at the store.
	opts="$opts --rgw-thread-pool-size=1"
	# S3_STS=1: the STS API too, for temporary credentials (s3_session_token)
	[ "${S3_STS:-0}" = 1 ] &&
		opts="$opts --rgw-sts-key=$(test_random_hex 16) --rgw-s3-auth-use-sts=true"
	S3_OPTS=$opts
	while :; do
		tries=$((tries + 1))
		S3_PORT=$(test_free_port) || test_skip_all "cannot find a free port for radosgw"
		S3_ENDPOINT=http://127.0.0.1:$S3_PORT
		# a fresh store each try: the user of the last one exists there
		mkdir -p "$S3_DIR/data.$tries"
		chmod 0777 "$S3_DIR/data.$tries"
		podman rm --ignore -f -t 0 "$S3_NAME" >/dev/null 2>&1
		podman run -d --name "$S3_NAME" --network=host -v "$S3_DIR/data.$tries:/d" "$S3_IMAGE" \
			sh -c "radosgw-admin $opts user create --uid=bk --display-name=bk \
				--access-key=$S3_AK --secret-key=$S3_SK >/d/user.json 2>/d/user.err &&
			       exec radosgw -d $opts --rgw-frontends 'beast endpoint=127.0.0.1:$S3_PORT'" \
			>"$S3_DIR/run.log" 2>&1 ||
			test_skip_all "podman cannot run the radosgw container: $(tail -n 1 "$S3_DIR/run.log")"
		i=0
		until _s3_answers; do
			[ "$(podman inspect -f '{{.State.Running}}' "$S3_NAME" 2>/dev/null)" = true ] || break
			i=$((i + 1))
			[ $i -lt 600 ] || break
			sleep 0.1
		done
		_s3_answers && break
		podman logs "$S3_NAME" >"$S3_DIR/rgw.stderr" 2>&1
		cat "$S3_DIR/data.$tries/user.err" >>"$S3_DIR/rgw.stderr" 2>/dev/null
		test_diag "radosgw did not answer on port $S3_PORT (try $tries): $(tail -n 1 "$S3_DIR/rgw.stderr")"
		[ $tries -lt 3 ] ||
			test_skip_all "radosgw did not start: $(tail -n 1 "$S3_DIR/rgw.stderr")"
	done
	export S3_ENDPOINT S3_PORT S3_NAME  # not the keys: tests look for the secret in children
	test_diag "radosgw at $S3_ENDPOINT (container $S3_NAME)"
}

# _s3_form SERVICE BODY: a signed form POST to radosgw's IAM or STS API.
_s3_form() {
	curl -sS --aws-sigv4 "aws:amz:us-east-1:$1" --user "$S3_AK:$S3_SK" \
		-H "x-amz-content-sha256: $(printf %s "$2" | sha256sum | cut -d' ' -f1)" \
		-H "Content-Type: application/x-www-form-urlencoded" -X POST -d "$2" "$S3_ENDPOINT/"
}

# s3_session_token: temporary credentials of the test user from STS
# GetSessionToken (after s3_start with S3_STS=1): S3_TMP_AK, S3_TMP_SK,
# S3_TMP_TOKEN. The user first gets the right to ask (a user policy).
s3_session_token() {
	local policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetSessionToken"],"Resource":"*"}]}'
	podman exec "$S3_NAME" sh -c "radosgw-admin $S3_OPTS caps add --uid=bk --caps=user-policy=*" \
		>"$S3_DIR/caps.out" 2>&1 || { cat "$S3_DIR/caps.out" >&2; return 1; }
	_s3_form iam "Action=PutUserPolicy&PolicyName=sts&UserName=bk&PolicyDocument=$(printf %s "$policy" | jq -sRr @uri)" \
		>"$S3_DIR/policy.xml" &&
	grep -q "<PutUserPolicyResponse" "$S3_DIR/policy.xml" || { cat "$S3_DIR/policy.xml" >&2; return 1; }
	_s3_form sts "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=3600" \
		>"$S3_DIR/token.xml" &&
	S3_TMP_AK=$(sed -n 's/.*<AccessKeyId>\([^<]*\)<.*/\1/p' "$S3_DIR/token.xml") &&
	S3_TMP_SK=$(sed -n 's/.*<SecretAccessKey>\([^<]*\)<.*/\1/p' "$S3_DIR/token.xml") &&
	S3_TMP_TOKEN=$(sed -n 's/.*<SessionToken>\([^<]*\)<.*/\1/p' "$S3_DIR/token.xml") &&
	[ -n "$S3_TMP_AK" ] && [ -n "$S3_TMP_SK" ] && [ -n "$S3_TMP_TOKEN" ] ||
		{ cat "$S3_DIR/token.xml" >&2; return 1; }
}

s3_stop() {
	[ -n "${S3_NAME:-}" ] && podman rm --ignore -f -t 0 "$S3_NAME" >/dev/null 2>&1
	S3_NAME=
	return 0
}

# s3_curl ARGS...: signed with the test keys; the body's SHA-256 is added
# when ARGS hold -T FILE (Debian 12's curl does not add it, radosgw needs it).
s3_curl() {
	local sha=$S3_EMPTY_SHA256 prev= arg
	for arg in "$@"; do
		[ "$prev" = -T ] && sha=$(sha256sum "$arg" | cut -d' ' -f1)
		prev=$arg
	done
	curl -sS --aws-sigv4 aws:amz:us-east-1:s3 --user "$S3_AK:$S3_SK" \
		-H "x-amz-content-sha256: $sha" "$@"
}

s3_mkbucket() {
	local code
	code=$(s3_curl -o "$S3_DIR/mkbucket.out" -w '%{http_code}' -X PUT "$S3_ENDPOINT/$1") &&
	[ "$code" = 200 ] || { echo "cannot create bucket $1: $code $(cat "$S3_DIR/mkbucket.out")" >&2; return 1; }
}

# Keys from a ListObjectsV2 answer (continuation followed).
s3_ls() {
	local bucket=$1 prefix=${2:-} token= q page
	page=$S3_DIR/ls.xml
	while :; do
		q="list-type=2&prefix=$(printf %s "$prefix" | jq -sRr @uri)"
		[ -n "$token" ] && q="continuation-token=$(printf %s "$token" | jq -sRr @uri)&$q"
		s3_curl -f -o "$page" "$S3_ENDPOINT/$bucket?$q" || return 1
		grep -o '<Key>[^<]*</Key>' "$page" | sed 's/<[^>]*>//g'
		grep -q '<IsTruncated>true</IsTruncated>' "$page" || break
		token=$(grep -o '<NextContinuationToken>[^<]*' "$page" | sed 's/.*>//')
		[ -n "$token" ] || return 1
	done
}

s3_get() {
	s3_curl -f -o "$3" "$S3_ENDPOINT/$1/$2"
}

# radosgw 18.2.7's dbstore lists no multipart upload at all
# (ListMultipartUploads is always empty), so tests ask for each one by the id
# bk-run logs: ListParts answers 200 while it holds parts, 404 once it is
# completed or aborted.
s3_upload_id() {
	sed -n "s|.*multipart upload of $2: .* (upload id \(.*\))\$|\1|p" "$1" | tail -n 1
}

s3_upload_gone() {
	local code
	[ -n "$3" ] || { echo "no upload id for $2" >&2; return 1; }
	code=$(s3_curl -o "$S3_DIR/parts.xml" -w '%{http_code}' \
		"$S3_ENDPOINT/$1/$2?uploadId=$(printf %s "$3" | jq -sRr @uri)") &&
	[ "$code" = 404 ] || { echo "upload $3 of $2: $code $(cat "$S3_DIR/parts.xml")" >&2; return 1; }
}

s3_env() {
	export BACKUP_S3_URL="s3://$1/${2:-}" BACKUP_S3_ENDPOINT=$S3_ENDPOINT
	export AWS_ACCESS_KEY_ID=$S3_AK AWS_SECRET_ACCESS_KEY=$S3_SK
	export BK_S3_RETRY_DELAY_MS=${BK_S3_RETRY_DELAY_MS:-50}
}

s3_parts_of() {
	echo $(( ($(stat -c %s "$1") + BK_S3_PART_SIZE - 1) / BK_S3_PART_SIZE ))
}

# The percentages of LOG's "upload: 48 MB of 135 MB (35%), 88 MB/s" lines
# into FILE, one a line.
s3_progress_percents() {
	sed -n 's/.* upload: [0-9.]* [KMGTP]\{0,1\}B of [0-9.]* [KMGTP]\{0,1\}B (\([0-9]*\)%), [0-9.]* [KMGTP]\{0,1\}B\/s$/\1/p' "$1" >"$2"
}

# s3_progress_ok LOG N: one upload's progress in LOG (a fresh log): at least
# one line, at most one a part, the bytes done never going back, 100% last.
s3_progress_ok() {
	local p=$S3_DIR/progress n
	s3_progress_percents "$1" "$p" &&
	n=$(wc -l <"$p") &&
	test "$n" -ge 1 && test "$n" -le "$2" &&
	sort -n -c "$p" &&
	test "$(tail -n 1 "$p")" = 100 ||
	{ echo "upload progress: $(tr '\n' ' ' <"$p") ($2 parts)" >&2; return 1; }
}

# s3_run_setup BUCKET PREFIX: for a test of bk-run's upload (lib-pg.sh
# sourced too): skip without the programs bk-run runs, start the store and
# PostgreSQL with the fixture, make BUCKET, point bk at BUCKET/PREFIX.
s3_run_setup() {
	test_need_programs bk-export bk-pack bk-verify bk-prune bk-run
	s3_start
	pg_start && pg_load_fixture || exit 1
	export BACKUP_MIN_SIZE_MB=0
	mkdir -p "$BACKUP_CONFIG_DIR"
	s3_mkbucket "$1" || exit 1
	s3_env "$1" "$2"
}

# s3_proxy_start: tests/s3proxy.py on a free port in front of the store;
# sets S3_PROXY_ENDPOINT, S3_PROXY_RULES (write rules there), S3_PROXY_LOG,
# S3_PROXY_OPEN (the most requests open at once, per method; empty it to
# count again).
s3_proxy_start() {
	local port
	port=$(test_free_port) || test_skip_all "cannot find a free port for the proxy"
	S3_PROXY_ENDPOINT=http://127.0.0.1:$port
	S3_PROXY_RULES=$S3_DIR/proxy.rules
	S3_PROXY_LOG=$S3_DIR/proxy.log
	S3_PROXY_OPEN=$S3_PROXY_LOG.open
	: >"$S3_PROXY_RULES"
	: >"$S3_PROXY_LOG"
	/usr/bin/python3 "$TEST_DIRECTORY/s3proxy.py" "$port" "$S3_PORT" "$S3_PROXY_RULES" \
		"$S3_PROXY_LOG" 2>"$S3_DIR/proxy.err" &
	S3_PROXY_PID=$!
	test_atexit 'kill $S3_PROXY_PID 2>/dev/null; wait $S3_PROXY_PID 2>/dev/null; :'
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "$S3_PROXY_ENDPOINT/" 2>/dev/null)" != 000 ]; do
		kill -0 "$S3_PROXY_PID" 2>/dev/null ||
			{ echo "Bail out! the S3 proxy died: $(tail -n 1 "$S3_DIR/proxy.err")"; exit 1; }
		sleep 0.05
	done
	: >"$S3_PROXY_LOG"
	: >"$S3_PROXY_OPEN"
}
