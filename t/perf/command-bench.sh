#!/bin/sh
# command-bench.sh [--calls N] [--trials N]: what one command costs a user who runs it once per
# blob, against what a redis user runs, measured in one run:
#   `cairn content load REF` (1 KiB blob, broker on local://)  vs  `redis-cli GET KEY` (1 KiB,
#   redis-server on a Unix socket): milliseconds per call;
#   `cairn --version`  vs  `/bin/true`: milliseconds per call (start-up cost alone).
# Each trial runs N calls of each side in turn. Prints each side's median per call over the
# trials, their range, and the ratio of the medians (targets: load <= 1.5x, --version <= 2x).
# Run from the build tree (it uses ../../src/cmd/cairn) or set CAIRN to the cairn command.
set -eu
calls=200
trials=5
usage() {
	echo "usage: command-bench.sh [--calls N] [--trials N]" >&2
	exit 2
}
while test $# -gt 0; do
	case "$1" in
	--calls) calls=$2; shift 2 ;;
	--trials) trials=$2; shift 2 ;;
	*) usage ;;
	esac
done
bench=command-bench
. "$(dirname "$0")/bench-lib.sh"
bench_setup python3 redis-server redis-cli

head -c 1024 /dev/urandom >"$work/blob"
bench_redis
redis-cli -s "$work/redis.sock" -x SET key <"$work/blob" >/dev/null

# One broker; the trials run as its initial program. Each line of times: side start end.
"$CAIRN" start --statedir "$work/statedir" -o content.backing=none -o stats.endpoint= \
	sh -c '
	cairn=$0 work=$1 calls=$2 trials=$3
	ref=$("$cairn" content store <"$work/blob")
	"$cairn" content load "$ref" | cmp -s - "$work/blob" || { echo "command-bench: load differs" >&2; exit 1; }
	run() {
		side=$1; shift
		start=$(date +%s.%N)
		n=0
		while test $n -lt "$calls"; do "$@" >/dev/null; n=$((n + 1)); done
		echo "$side $start $(date +%s.%N)" >>"$work/times"
	}
	t=0
	while test $t -lt "$trials"; do
		run load "$cairn" content load "$ref"
		run get redis-cli -s "$work/redis.sock" GET key
		run version "$cairn" --version
		run true /bin/true
		t=$((t + 1))
	done' "$CAIRN" "$work" "$calls" "$trials"

python3 - "$work/times" "$calls" <<'PY'
import statistics, sys
times, calls = sys.argv[1], int(sys.argv[2])
ms = {}
for line in open(times):
    side, start, end = line.split()
    ms.setdefault(side, []).append((float(end) - float(start)) * 1000 / calls)
print(f"command-bench: {calls} calls a side, {len(ms['load'])} trials (ms per call, medians, range in brackets)")
def row(name, side):
    v = ms[side]
    return f"{name:<28} {statistics.median(v):7.2f} [{min(v):.2f}-{max(v):.2f}]"
for (a, an), (b, bn), target in (
        (("load", "cairn content load REF"), ("get", "redis-cli GET"), 1.5),
        (("version", "cairn --version"), ("true", "/bin/true"), 2.0)):
    ratio = statistics.median(ms[a]) / statistics.median(ms[b])
    print(f"{row(an, a)}  {row(bn, b)}  ratio {ratio:.2f}x (target <= {target}x)")
PY
