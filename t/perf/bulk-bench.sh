#!/bin/sh
# bulk-bench.sh [--count N] [--size BYTES] [--trials N] [--backing sqlite|none]: bulk loading as
# a user does it, against redis's own mass insertion fed the same bytes, measured in one run.
#   cairn: `cairn content store --netstrings` reading N blobs from a file, under one broker
#          (content.backing as given, default sqlite; redis runs without persistence: compare
#          with --backing none for like with like);
#   redis: `redis-cli --pipe` reading N SET commands (RESP) of the same blobs, into a
#          redis-server on a Unix socket.
# Each trial uses blobs no earlier trial stored (the cache deduplicates). Prints each side's
# median blobs per second over the trials, their range, and the ratio of the medians
# (target >= 0.5, aiming for 1.0). Run from the build tree (it uses ../../src/cmd/cairn) or set
# CAIRN to the cairn command.
set -eu
count=50000
size=1024
trials=5
backing=sqlite
usage() {
	echo "usage: bulk-bench.sh [--count N] [--size BYTES] [--trials N] [--backing sqlite|none]" >&2
	exit 2
}
while test $# -gt 0; do
	case "$1" in
	--count) count=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--trials) trials=$2; shift 2 ;;
	--backing) backing=$2; shift 2 ;;
	*) usage ;;
	esac
done
bench=bulk-bench
. "$(dirname "$0")/bench-lib.sh"
bench_setup python3 redis-server redis-cli

# Input files, one pair per trial: netstrings for cairn, RESP SETs for redis, the same blobs.
echo "bulk-bench: writing $trials x $count blobs of $size bytes" >&2
python3 - "$work" "$count" "$size" "$trials" <<'PY'
import sys
work, count, size, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for t in range(trials):
    with open(f"{work}/cairn.{t}", "wb") as ns, open(f"{work}/redis.{t}", "wb") as rs:
        for i in range(count):
            tag = b"%08x-%08x-" % (t, i)
            blob = (tag + b"x" * size)[:size]
            ns.write(b"%d:%s," % (len(blob), blob))
            key = b"k" + tag
            rs.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(blob), blob))
PY

now() { date +%s.%N; }
rate() { python3 -c "import sys; print(int($count / (float(sys.argv[2]) - float(sys.argv[1]))))" "$1" "$2"; }

# redis: one server, each trial's keys new to it.
bench_redis
: >"$work/redis.rates"
t=0
while test $t -lt "$trials"; do
	start=$(now)
	redis-cli -s "$work/redis.sock" --pipe <"$work/redis.$t" >"$work/redis.out"
	end=$(now)
	grep -q "errors: 0, replies: $count" "$work/redis.out" ||
		{ echo "bulk-bench: redis-cli --pipe: $(tail -1 "$work/redis.out")" >&2; exit 1; }
	rate "$start" "$end" >>"$work/redis.rates"
	t=$((t + 1))
done

# cairn: one broker; every trial's blobrefs checked for count.
"$CAIRN" start --statedir "$work/statedir" -o content.backing="$backing" -o stats.endpoint= \
	sh -c '
	t=0
	while test $t -lt '"$trials"'; do
		start=$(date +%s.%N)
		"$0" content store --netstrings <"$1/cairn.$t" >"$1/refs"
		end=$(date +%s.%N)
		test $(wc -l <"$1/refs") -eq '"$count"' || { echo "bulk-bench: wrong blobref count" >&2; exit 1; }
		echo "$start $end" >>"$1/cairn.times"
		t=$((t + 1))
	done' "$CAIRN" "$work"
: >"$work/cairn.rates"
while read -r start end; do rate "$start" "$end" >>"$work/cairn.rates"; done <"$work/cairn.times"

python3 - "$work" "$count" "$size" "$backing" <<'PY'
import statistics, sys
work, count, size, backing = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def load(name):
    return [int(x) for x in open(f"{work}/{name}.rates").read().split()]
c, r = load("cairn"), load("redis")
mc, mr = statistics.median(c), statistics.median(r)
print(f"bulk-bench: {count} blobs of {size} bytes, {len(c)} trials (medians, range in brackets)")
print(f"cairn content store --netstrings ({backing}) {mc:>9.0f} blobs/s [{min(c)}-{max(c)}]")
print(f"redis-cli --pipe (SET)                  {mr:>9.0f} blobs/s [{min(r)}-{max(r)}]")
print(f"ratio cairn/redis {mc / mr:.2f} (target >= 0.5, aiming for 1.0)")
PY
