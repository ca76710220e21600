#!/bin/sh
test_description='benchmarks run end to end at tiny sizes and print their comparisons

This keeps the programs in t/perf working; it asserts nothing about speed (the figures of a
run this small, possibly under sanitizers, mean nothing).'
. "$(dirname "$0")/lib/sharness-cairn.sh"

PERF=$CAIRN_BUILDDIR/t/perf

test_expect_success 'ping-bench: the broker on local://, against the unix echo and the zmq echo' '
	"$PERF/ping-bench" --trials 1 --requests 200 >out 2>err &&
	grep "^ping-bench: broker on local://" out &&
	for what in "round trip" throughput; do
		grep "^$what  *raw unix echo  *[0-9.]* .*cairn broker.ping  *[0-9.]* .*ratio [0-9.]*x \[[0-9.]*-[0-9.]*\] (target [<>]= [0-9.]*x) " out &&
		grep "^$what  *raw zmq echo  *[0-9.]* .*cairn broker.ping .*ratio [0-9.]*x \[[0-9.]*-[0-9.]*\]" out ||
		return 1
	done
'
test_expect_success 'ping-bench --only throughput prints only that line' '
	"$PERF/ping-bench" --trials 1 --requests 200 --only throughput >out 2>err &&
	grep "^throughput" out &&
	! grep "^round trip" out
'
test_expect_success 'ping-bench rejects a bad option with its usage' '
	test_must_fail "$PERF/ping-bench" --only sideways 2>err &&
	grep "usage: ping-bench" err
'
test_expect_success 'ping-bench whose raw echo cannot start fails saying so, without waiting' '
	CAIRN_RAW_ECHO=/bin/true test_must_fail "$PERF/ping-bench" --trials 1 --requests 20 2>err &&
	grep "raw echo: /bin/true exited before it bound" err
'
test_expect_success 'raw-echo: usage without a URI, and an endpoint it cannot bind named (ZeroMQ or stream)' '
	test_expect_code 2 "$PERF/raw-echo" 2>err &&
	grep "usage: raw-echo URI" err &&
	test_expect_code 1 "$PERF/raw-echo" tcp://no-such-endpoint 2>err &&
	grep "raw-echo: cannot bind tcp://no-such-endpoint: " err &&
	test_expect_code 1 "$PERF/raw-echo" unix:/nonexistent/dir/echo.stream 2>err &&
	grep "raw-echo: cannot bind unix:/nonexistent/dir/echo.stream: No such file or directory" err &&
	long=unix:/$(printf "%0120d" 0) &&
	test_expect_code 1 "$PERF/raw-echo" "$long" 2>err &&
	grep "raw-echo: cannot bind $long: the path is longer than 107 bytes" err
'
test_expect_success 'ping-bench --drive needs CAIRN_URI and says so' '
	(unset CAIRN_URI && test_expect_code 2 "$PERF/ping-bench" --drive raw 2>err) &&
	grep "drive sends to .CAIRN_URI, which is not set" err
'
# ping-instructions runs programs under valgrind, which a sanitizer build (as in CI) cannot
# host: its full run is left to the benchmark itself; these check how it refuses bad input.
test_expect_success 'ping-instructions.sh rejects a bad request count with its usage' '
	test_expect_code 2 "$CAIRN_SRCDIR/t/perf/ping-instructions.sh" --requests ten 2>err &&
	grep "usage: ping-instructions.sh" err
'
test_expect_success 'ping-instructions.sh outside a build directory says where to run it' '
	CAIRN_BUILDDIR=/nonexistent test_expect_code 1 "$CAIRN_SRCDIR/t/perf/ping-instructions.sh" 2>err &&
	grep "/nonexistent/src/cmd/cairn not found: run it in the build directory" err
'
test_expect_success 'ping-instructions.sh without valgrind says how to install it' '
	(PATH=/nonexistent && test_expect_code 1 /bin/bash \
		"$CAIRN_SRCDIR/t/perf/ping-instructions.sh" 2>err) &&
	grep "valgrind is not installed (apt-get install valgrind)" err
'
test_expect_success 'content-bench: store and load through brokers, against the echo' '
	"$PERF/content-bench" --count 300 --size 1024 --depth 16 --repeat 2 --skip-redis \
		--memory-entries 2000 >out 2>err &&
	grep "^2 runs of each; figures are the median run" out &&
	grep "^zmq echo .*ops/s .*\[[0-9]*-[0-9]*\]$" out &&
	grep "^zmq echo batch .*ops/s .*p50 .*\[[0-9]*-[0-9]*\]$" out &&
	grep "^unix echo batch .*ops/s .*p50 .*\[[0-9]*-[0-9]*\]$" out &&
	grep "^unix echo 1/f .*ops/s .*p50 .*\[[0-9]*-[0-9]*\]$" out &&
	grep "^transport: unix echo batch/zmq echo batch [0-9.]* \[[0-9.]*-[0-9.]*\]$" out &&
	for line in "cairn store " "cairn load " "cairn store +t" "cairn store mem" "cairn store 1/f" \
		"cairn load 1/f" "cairn store tcp" "cairn load tcp"; do
		grep "^$line.* [1-9][0-9]* ops/s .*p50 .*p99 .*cpu/request broker [0-9.]* us, client [0-9.]* us \[[0-9]*-[0-9]*\]$" \
			out || return 1
	done &&
	grep "^ratio store/echo [0-9.]* \[[0-9.]*-[0-9.]*\], load/echo [0-9.]* \[" out &&
	grep "^unbatched (one request per frame): store/unix echo 1/f [0-9.]* \[[0-9.]*-[0-9.]*\], load/unix echo 1/f [0-9.]* \[" out &&
	grep "^tcp:// (ZeroMQ, CURVE): store/local:// store [0-9.]* \[[0-9.]*-[0-9.]*\], load/local:// load [0-9.]* \[" out &&
	grep "^cpu/request, server + client: cairn store [0-9.]* us \[[0-9.]*-[0-9.]*\], store mem [0-9.]* us \[.*, load [0-9.]* us \[" out &&
	grep "^memory only: store/echo" out &&
	grep "^telemetry on/off" out &&
	grep "^memory per entry beyond the blob" out &&
	! grep -i "nan\|n/a" out
'
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null &&
	test_set_prereq REDIS
test_expect_success REDIS 'content-bench: redis SET, GET and SET with AOF, their CPU, and the ratios' '
	"$PERF/content-bench" --count 300 --size 1024 --depth 16 --repeat 2 --redis-requests 300 \
		--memory-entries 2000 >out 2>err &&
	for line in "redis SET " "redis GET " "redis SET aof"; do
		grep "^$line.* [1-9][0-9]* ops/s .*p50 .*cpu/request redis-server [0-9.]* us, redis-benchmark [0-9.]* us \[[0-9]*-[0-9]*\]$" \
			out || return 1
	done &&
	grep "^redis GET found its key in [0-9]*% of requests" out &&
	grep "^ratio store/redis SET [0-9.]* \[[0-9.]*-[0-9.]*\], load/redis GET [0-9.]* \[" out &&
	grep "^SQLite write-back: store/redis SET aof everysec [0-9.]* \[[0-9.]*-[0-9.]*\] (target" out &&
	grep "^tcp:// (ZeroMQ, CURVE): .*, store/redis SET [0-9.]* \[.*, load/redis GET [0-9.]* \[.* (redis on tcp loopback" out &&
	grep "^cpu/request, server + client: .*; redis SET [0-9.]* us \[.*, GET [0-9.]* us \[.*, SET aof [0-9.]* us \[" out &&
	grep "^cpu ratio cairn/redis: load/GET [0-9.]* \[[0-9.]*-[0-9.]*\] (target <= 1.0), store mem/SET [0-9.]* \[.*, store/SET aof [0-9.]* \[" out &&
	! grep -i "nan\|n/a" out
'
# content-bench with a fake redis-server running `$2` (redis-benchmark always fails) in PATH;
# expects it to name what went wrong and to go on without redis.
content_bench_with_fake_redis() {
	mkdir -p "$1" &&
	printf "#!/bin/sh\n%s\n" "$2" >"$1/redis-server" &&
	printf "#!/bin/sh\nexit 1\n" >"$1/redis-benchmark" &&
	chmod +x "$1/redis-server" "$1/redis-benchmark" &&
	PATH="$PWD/$1:$PATH" "$PERF/content-bench" --count 100 --size 64 --depth 4 --repeat 1 \
		--memory-entries 100 >out 2>err &&
	grep "redis-server on port [0-9]* $3 (skipping redis)" err &&
	grep "^ratio store/echo" out
}
test_expect_success 'content-bench: a redis-server that dies at start-up is named and skipped' '
	content_bench_with_fake_redis fakebin "exit 1" "exited at start-up"
'
test_expect_success 'content-bench: a redis-server that never answers is named and skipped' '
	content_bench_with_fake_redis hungbin "exec sleep 120" "did not answer within 10 s"
'
# content-bench --backing: the three comparisons, each with its ratio and range; afterwards the
# store holds nothing of the run. files always; rados and s3 on a throwaway Ceph cluster
# (t/lib/ceph.sh), skipped when Ceph is not installed, except under CI=true (ceph_require's
# policy, without skipping the rest of this script).
content_bench_backing_ok() {
	for what in "flush .*raw $1" "cold load .*raw $1" "warm load .*cairn sqlite"; do
		grep "^$what .*cairn $2 .*ratio [0-9.]*x \[[0-9.]*-[0-9.]*\] (target" out ||
			return 1
	done &&
	grep "^brokers: cairn start -o content.backing=$2 " out &&
	grep "^cairn $2: stores answered at" out &&
	! grep "warm loads were not answered from memory" out
}
test_expect_success 'content-bench --backing files: against plain files, and SQLite when warm' '
	mkdir files &&
	"$PERF/content-bench" --backing files --files-dir files --count 40 --size 1024 --depth 4 \
		--repeat 2 >out 2>err &&
	content_bench_backing_ok files files &&
	test -z "$(ls -A files)"
'
test_expect_success 'content-bench --backing: a blob too small for its tag is refused' '
	test_expect_code 2 "$PERF/content-bench" --backing files --size 16 2>err &&
	grep "needs --size 32 or more" err
'
. "$CAIRN_SRCDIR/t/lib/ceph.sh"
cairn start --help-config >keys
grep -q "^rados.pool " keys && test_set_prereq RADOS
grep -q "^s3.endpoint " keys && test_set_prereq S3
if ceph_available --rgw; then
	test_set_prereq CEPH
elif test "$CI" = true; then
	test_expect_success "Ceph is installed (CI=true requires it)" '
		echo "missing: $CEPH_MISSING (.ci/install-deps installs them)" >&2 &&
		false
	'
else
	echo "# the rados and s3 runs are skipped: Ceph is not installed (missing: $CEPH_MISSING)"
fi
test_expect_success RADOS 'content-bench --backing rados without a cluster says what it needs' '
	(unset CEPH_CONF CEPH_POOL && test_expect_code 2 "$PERF/content-bench" --backing rados \
		2>err) &&
	grep "needs --rados-conf and --rados-pool (or .CEPH_CONF and .CEPH_POOL)" err
'
test_expect_success CEPH 'start a Ceph cluster with radosgw' '
	ceph_start --rgw
'
test_expect_success CEPH,RADOS 'content-bench --backing rados: against librados' '
	"$PERF/content-bench" --backing rados --count 40 --size 1024 --depth 4 --repeat 1 \
		>out 2>err &&
	content_bench_backing_ok librados rados &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" ls >left &&
	test_must_be_empty left
'
test_expect_success CEPH,S3 'content-bench --backing s3: against libs3' '
	"$PERF/content-bench" --backing s3 --count 40 --size 1024 --depth 4 --repeat 1 \
		>out 2>err &&
	content_bench_backing_ok libs3 s3 &&
	rgw_s3 list "$S3_BUCKET" >left &&
	! grep sha1- left
'
test_expect_success CEPH 'stop the Ceph cluster' '
	ceph_stop
'
test_expect_success 'jobs-bench: 0, 1 and 5 plugins' '
	"$PERF/jobs-bench" 20 1 >out 2>err &&
	grep "^0 " out && grep "^1 " out && grep "^5 " out
'
test_expect_success 'bulk-bench: --netstrings against redis-cli --pipe, one ratio' '
	CAIRN=$CAIRN_BUILDDIR/src/cmd/cairn sh "$CAIRN_SRCDIR/t/perf/bulk-bench.sh" \
		--count 300 --size 100 --trials 2 >out 2>err &&
	grep "^cairn content store --netstrings (sqlite) *[0-9]* blobs/s \[[0-9]*-[0-9]*\]$" out &&
	grep "^redis-cli --pipe (SET) *[0-9]* blobs/s" out &&
	grep "^ratio cairn/redis [0-9.]* (target >= 0.5" out
'
test_expect_success 'bulk-bench rejects a bad option with its usage' '
	test_expect_code 2 sh "$CAIRN_SRCDIR/t/perf/bulk-bench.sh" --sideways 2>err &&
	grep "^usage: bulk-bench.sh" err
'
test_expect_success 'command-bench: cairn content load against redis-cli GET, --version against true' '
	CAIRN=$CAIRN_BUILDDIR/src/cmd/cairn sh "$CAIRN_SRCDIR/t/perf/command-bench.sh" \
		--calls 3 --trials 1 >out 2>err &&
	grep "^cairn content load REF  *[0-9.]* \[[0-9.]*-[0-9.]*\]  redis-cli GET  *[0-9.]* .* ratio [0-9.]*x (target <= 1.5x)$" out &&
	grep "^cairn --version  *[0-9.]* .*/bin/true  *[0-9.]* .* ratio [0-9.]*x (target <= 2.0x)$" out
'
test_expect_success 'command-bench rejects a bad option with its usage' '
	test_expect_code 2 sh "$CAIRN_SRCDIR/t/perf/command-bench.sh" --sideways 2>err &&
	grep "^usage: command-bench.sh" err
'
# stats-bench is built only when configure found Google Benchmark; CI must have it.
if test -x "$PERF/stats-bench"; then
	test_set_prereq STATS_BENCH
elif test "$CI" = true; then
	test_expect_success 'stats-bench is built (CI=true: Google Benchmark is required)' 'false'
else
	say "stats-bench not built (configure found no Google Benchmark: install libbenchmark-dev); its checks are skipped"
fi
test_expect_success STATS_BENCH 'stats-bench: a filtered run says what it left out, with no NaN' '
	"$PERF/stats-bench" --benchmark_filter=CounterHandleAdd --benchmark_repetitions=1 \
		--benchmark_min_time=0.01 >out 2>err &&
	grep "handle Counter::add: .* ns/op" out &&
	grep "left out by --benchmark_filter" out &&
	! grep -i "nan" out
'
# Colour codes (ESC) only on a terminal or when asked for; NO_COLOR and --benchmark_color=false
# win over a request made earlier on the line.
esc=$(printf "\033")
test_expect_success STATS_BENCH 'stats-bench: no colour codes when stdout is not a terminal, or with NO_COLOR' '
	quick="--benchmark_filter=CounterHandleAdd --benchmark_repetitions=1 --benchmark_min_time=0.01" &&
	"$PERF/stats-bench" $quick >plain &&
	grep "Counter" plain && ! grep -q "$esc" plain &&
	"$PERF/stats-bench" $quick --benchmark_color=true >forced &&
	grep -q "$esc" forced &&
	"$PERF/stats-bench" $quick --benchmark_color=true --benchmark_color=false >off &&
	! grep -q "$esc" off &&
	NO_COLOR=1 script -qec "\"$PERF/stats-bench\" $quick" /dev/null >tty-no-color &&
	grep "Counter" tty-no-color && ! grep -q "$esc" tty-no-color &&
	script -qec "\"$PERF/stats-bench\" $quick" /dev/null >tty &&
	grep -q "$esc" tty
'
test_done
