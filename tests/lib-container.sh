# The backup image for the container tests (t09*), sourced after lib.sh:
# podman and the local Debian base images (shared/tools/container-setup),
# the image built once (tools/check-container builds it and sets
# BK_TEST_IMAGE_BUILT=1; a test run alone builds it, podman's layer cache
# makes that quick when nothing changed), and the compose example's service
# turned into podman arguments.

[ "${BK_TEST_CONTAINER:-0}" = 1 ] ||
	test_skip_all "container tests run by 'make check-container' (BK_TEST_CONTAINER=1)"

IMAGE=${BK_TEST_IMAGE:-localhost/bk-backup:test}
COMPOSE=$BK_ROOT/docs/docker-compose.backup.yml

# container_setup: podman and the base image, or skip. As root it first runs
# container-setup, which lives in the workplace's shared/tools, beside the
# checkout or (for a clone made elsewhere, as CI does) at /work/shared.
container_setup() {
	local setup=${BK_CONTAINER_SETUP:-} s
	for s in "$BK_ROOT/../shared/tools/container-setup" /work/shared/tools/container-setup; do
		[ -n "$setup" ] || { [ -x "$s" ] && [ -f "$s" ] && setup=$s; }
	done
	setup=${setup:-$BK_ROOT/../shared/tools/container-setup}
	if [ "$(id -u)" = 0 ] && [ "${BK_TEST_IMAGE_BUILT:-0}" != 1 ]; then
		[ -f "$setup" ] && [ -x "$setup" ] ||
			test_skip_all "no $setup to install podman and the base image"
		"$setup" >"$TRASH/setup.log" 2>&1 || {
			sed 's/^/# /' "$TRASH/setup.log"
			test_skip_all "container-setup failed: $(tail -n 1 "$TRASH/setup.log")"
		}
	fi
	command -v podman >/dev/null || test_skip_all "no podman (run $setup as root)"
	podman image exists docker.io/library/debian:trixie-slim ||
		test_skip_all "no local debian:trixie-slim image (run $setup as root)"
}

# podman prints this for every container with a HEALTHCHECK when there is no
# systemd to run its timer (container-setup says it is harmless).
podman_() {
	podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2)
}

# image_build: build $IMAGE from Dockerfile.backup unless make check-container
# already did; build.log and build.seconds in $TRASH.
image_build() {
	local start
	if [ "${BK_TEST_IMAGE_BUILT:-0}" = 1 ] && podman image exists "$IMAGE"; then
		echo 0 >"$TRASH/build.seconds"
		return 0
	fi
	start=$(date +%s)
	podman build --format docker --pull=never --network=host \
		-f "$BK_ROOT/Dockerfile.backup" -t "$IMAGE" "$BK_ROOT" >"$TRASH/build.log" 2>&1 || {
		tail -n 40 "$TRASH/build.log"; return 1; }
	echo $(( $(date +%s) - start )) >"$TRASH/build.seconds"
}

# image_ready: the image, built if needed, or skip.
image_ready() {
	podman image exists "$IMAGE" && [ "${BK_TEST_IMAGE_BUILT:-0}" = 1 ] && return 0
	image_build || test_skip_all "the image $IMAGE did not build"
}

# wait_log NAME PATTERN: poll the container's log until PATTERN shows (up to
# 60 s); fails, printing the log, if the container stops first.
wait_log() {
	local i=0
	until podman logs "$1" 2>&1 | grep -q -- "$2"; do
		i=$((i + 1))
		if [ $i -gt 600 ] || [ "$(podman inspect --format '{{.State.Running}}' "$1")" != true ]; then
			podman logs "$1" 2>&1 | sed 's/^/# /'
			return 1
		fi
		sleep 0.1
	done
}

# compose_args [VAR=VALUE...]: the compose example's backup service as podman
# arguments (NUL-separated): hostname, env_file, environment (VAR=VALUE
# overrides), secrets, volumes, with the project at $TRASH/project and named
# volumes under $TRASH/volumes.
compose_args() {
	/usr/bin/python3 - "$COMPOSE" "$TRASH/project" "$TRASH/volumes" "$@" <<-\EOF
	import os, sys, yaml
	compose, project, volumes = sys.argv[1:4]
	overrides = dict(a.split("=", 1) for a in sys.argv[4:])
	doc = yaml.safe_load(open(compose))
	s = doc["services"]["backup"]
	args = []
	if "hostname" in s:
	    args += ["--hostname", s["hostname"]]
	for f in s.get("env_file", []):
	    args += ["--env-file", os.path.join(project, f)]
	env = {k: "" if v is None else str(v) for k, v in s.get("environment", {}).items()}
	env.update(overrides)
	for k, v in env.items():
	    args += ["-e", k + "=" + v]
	for name in s.get("secrets", []):
	    src = os.path.join(project, doc["secrets"][name]["file"])
	    args += ["-v", src + ":/run/secrets/" + name + ":ro"]
	for v in s.get("volumes", []):
	    parts = v.split(":")
	    if parts[0].startswith("."):
	        parts[0] = os.path.normpath(os.path.join(project, parts[0]))
	    else:
	        parts[0] = os.path.join(volumes, parts[0])
	    args += ["-v", ":".join(parts)]
	sys.stdout.write("\0".join(args) + "\0")
	EOF
}

# pg17_start: a PostgreSQL 17 server (Debian 13's postgresql-17 in a trixie
# container, tests/container/pg17.Containerfile, built once and kept as
# localhost/bk-pg17:test) on a free loopback port of the host network, with a
# scram password. Sets PG17_PORT, PG17_PASSWORD, PG17_NAME; stopped at exit.
PG17_IMAGE=localhost/bk-pg17:test
pg17_start() {
	local i=0
	if ! podman image exists "$PG17_IMAGE"; then
		podman build --pull=never --network=host \
			-f "$TEST_DIRECTORY/container/pg17.Containerfile" -t "$PG17_IMAGE" \
			"$TEST_DIRECTORY/container" >"$TRASH/pg17-build.log" 2>&1 || {
			tail -n 20 "$TRASH/pg17-build.log" | sed 's/^/# /'
			test_skip_all "cannot build $PG17_IMAGE (postgresql-17 from Debian 13)"
		}
	fi
	PG17_PORT=$(test_free_port)
	PG17_PASSWORD=s3cr3t17-$(test_random_hex 16)
	PG17_NAME=bk-pg17-$$-$PG17_PORT
	podman run -d --name "$PG17_NAME" --network=host -e PG17_PORT="$PG17_PORT" \
		-e PG17_PASSWORD="$PG17_PASSWORD" "$PG17_IMAGE" >/dev/null ||
		test_skip_all "cannot start $PG17_IMAGE"
	test_atexit 'podman rm --ignore -f -t 0 "$PG17_NAME" >/dev/null 2>&1 || :'
	until PGPASSWORD=$PG17_PASSWORD "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$PG17_PORT" \
		-U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 600 ] || [ "$(podman inspect --format '{{.State.Running}}' "$PG17_NAME")" != true ]; then
			podman logs "$PG17_NAME" 2>&1 | sed 's/^/# /'
			test_skip_all "the PostgreSQL 17 container did not come up"
		fi
		sleep 0.1
	done
}
