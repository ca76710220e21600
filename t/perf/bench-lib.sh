# Sourced by t/perf's shell benchmarks (bulk-bench.sh, command-bench.sh) after they set $bench
# (their name, for messages) and parsed their options:
#   bench_setup TOOL...: sets CAIRN (the build tree's cairn unless CAIRN is set, else the one on
#       PATH), checks it and TOOL... are there, makes the work directory $work and removes it,
#       and stops the redis-server bench_redis started, at exit;
#   bench_redis: starts redis-server on the Unix socket $work/redis.sock, without persistence,
#       and waits (bounded) until it answers.
bench_setup() {
	if test -z "${CAIRN:-}"; then
		CAIRN=$(cd "$(dirname "$0")" && pwd)/../../src/cmd/cairn
		test -x "$CAIRN" || CAIRN=$(command -v cairn || echo cairn)
	fi
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || {
			echo "$bench: $tool is not installed (apt-get install python3 redis-server redis-tools)" >&2
			exit 1
		}
	done
	test -x "$CAIRN" || { echo "$bench: no cairn at $CAIRN (build first, or set CAIRN)" >&2; exit 1; }
	work=$(mktemp -d "/tmp/$bench.XXXXXX")
	redis_pid=
	trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
	test -z "$redis_pid" || kill "$redis_pid" 2>/dev/null || true
	rm -rf "$work"
}
bench_redis() {
	redis-server --port 0 --unixsocket "$work/redis.sock" --save "" --appendonly no \
		--dir "$work" >"$work/redis.log" 2>&1 &
	redis_pid=$!
	_br_i=0
	until redis-cli -s "$work/redis.sock" ping >/dev/null 2>&1; do
		_br_i=$((_br_i + 1))
		test $_br_i -lt 200 ||
			{ echo "$bench: redis-server did not start (see $work/redis.log)" >&2; exit 1; }
		sleep 0.05
	done
}
