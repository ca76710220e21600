#!/bin/bash
# ping-instructions: the CPU instructions each end of a broker.ping spends per request, counted
# by valgrind's callgrind, against ping-bench's raw Unix stream echo and raw stream client in the
# same run (the broker serves local://, a Unix stream socket its reactor reads itself). Unlike
# requests per second, an instruction count does not move with the scheduling noise of a shared
# machine, so it shows what a change to the request path does to its cost.
#   server: the broker (cairn start, local://) against t/perf/raw-echo unix:PATH, both driven by
#           the raw stream client;
#   client: libclient against the raw stream client, both talking to an ordinary broker.
# Each figure is the count over N pipelined requests after a warm-up; the start-up of each
# process is left out (callgrind_control zeroes the counters / a run of N/2 is subtracted).
set -euo pipefail

usage() {
	echo "usage: ping-instructions.sh [--requests N]   (run in the build directory, or set" >&2
	echo "       CAIRN_BUILDDIR; needs valgrind)" >&2
	exit 2
}
n=20000
while [ $# -gt 0 ]; do
	case $1 in
	--requests) [ $# -ge 2 ] || usage; n=$2; shift 2 ;;
	*) usage ;;
	esac
done
case $n in '' | *[!0-9]* | 0*) usage ;; esac
[ "$n" -ge 2 ] || usage

build=${CAIRN_BUILDDIR:-$PWD}
cairn=$build/src/cmd/cairn
bench=$build/t/perf/ping-bench
echo_prog=$build/t/perf/raw-echo
for f in "$cairn" "$bench" "$echo_prog"; do
	[ -x "$f" ] || { echo "ping-instructions: $f not found: run it in the build directory after make, or set CAIRN_BUILDDIR" >&2; exit 1; }
done
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
	{ echo "ping-instructions: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d /tmp/cairn-ping-instructions-XXXXXX)
native=
cleanup() {
	[ -z "$native" ] || { kill "$native" 2>/dev/null; wait "$native" 2>/dev/null; } || true
	rm -rf "$work"
}
trap cleanup EXIT

# wait_file FILE PATTERN: until FILE holds PATTERN, at most 120 s (valgrind starts slowly).
wait_file() {
	local deadline=$(( $(date +%s) + 120 ))
	until grep -q "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "ping-instructions: timed out waiting for $1" >&2; cat "$1" >&2 || true; exit 1; }
		sleep 0.1
	done
}

# per COUNT [REQUESTS]: COUNT / REQUESTS (default n), to one decimal: the raw echo's loop spends
# a few instructions per request (a read and a write per batch), too few for an integer.
per() { awk -v a="$1" -v b="${2:-$n}" 'BEGIN { printf "%.1f", a / b }'; }

# summary FILE: the instruction total callgrind wrote.
summary() { sed -n 's/^summary: //p' "$1"; }

# server NAME CMD...: runs CMD under callgrind (the broker prints its local:// URI once up, the
# echo "ready"), drives it with the raw stream client, and prints the server's instructions per
# request.
server() {
	local name=$1; shift
	local out=$work/$name.cg
	valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" &
	local pid=$!
	# (this function runs in a command substitution: the caller's trap does not reach here)
	trap "kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null" EXIT
	wait_file "$work/$name.stdout" 'ready\|local://'
	local uri
	uri=$(grep -o 'local://[^ ]*' "$work/$name.stdout" | head -1 || true)  # the echo prints none
	[ -n "$uri" ] || uri=unix:$work/echo.stream
	CAIRN_URI=$uri "$bench" --drive raw --requests $(( n / 10 + 1 )) >/dev/null
	callgrind_control -z "$pid" >/dev/null 2>&1
	CAIRN_URI=$uri "$bench" --drive raw --requests "$n" >/dev/null
	callgrind_control -d "$pid" >/dev/null 2>&1
	# One file per thread; thread 1 is the one that serves (the broker's reactor, the echo's loop).
	wait_file "$out.1-01" '^summary:'
	local total=0 f
	for f in "$out".1-*; do
		wait_file "$f" '^summary:'
		total=$(( total + $(summary "$f") ))
	done
	echo "$(per "$total")" "$(per "$(summary "$out.1-01")")"
}

# client MODE: instructions per request of ping-bench --drive MODE against $CAIRN_URI.
client() {
	local ir=()
	for count in $(( n / 2 )) "$n"; do
		valgrind --tool=callgrind --callgrind-out-file="$work/client-$1-$count.cg" \
			"$bench" --drive "$1" --requests "$count" >/dev/null 2>"$work/client.stderr"
		ir+=("$(summary "$work/client-$1-$count.cg")")
	done
	per $(( ir[1] - ir[0] )) $(( n - n / 2 ))
}

# A server run that fails prints why and gives no count: read then fails, which errexit must not
# turn into a silent exit, so that the check below can say which figure is missing.
read -r echo_ir echo_loop_ir < <(server echo "$echo_prog" "unix:$work/echo.stream") || true
read -r broker_ir broker_loop_ir < <(server broker "$cairn" start --statedir "$work/state-cg" -o stats.endpoint=) || true
[ -n "${echo_loop_ir:-}" ] && [ -n "${broker_loop_ir:-}" ] || { echo "ping-instructions: a server run gave no count (see above)" >&2; exit 1; }

"$cairn" start --statedir "$work/state" -o stats.endpoint= >"$work/native.stdout" 2>"$work/native.stderr" &
native=$!
wait_file "$work/native.stdout" 'local://'
export CAIRN_URI
CAIRN_URI=$(grep -o 'local://[^ ]*' "$work/native.stdout" | head -1)
raw_ir=$(client raw)
lib_ir=$(client lib)

# ratio A B: A / B, or n/a when B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a " }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a + b }'; }
echo "ping-instructions: instructions per broker.ping, $n pipelined requests (callgrind)"
printf 'server       raw unix echo %7s   cairn broker %7s   ratio %sx\n' "$echo_ir" "$broker_ir" "$(ratio "$broker_ir" "$echo_ir")"
printf '  its loop   raw unix echo %7s   cairn broker %7s   ratio %sx   (the thread that serves: the reactor; the echo has no other)\n' "$echo_loop_ir" "$broker_loop_ir" "$(ratio "$broker_loop_ir" "$echo_loop_ir")"
printf 'client       raw stream    %7s   libclient    %7s   ratio %sx\n' "$raw_ir" "$lib_ir" "$(ratio "$lib_ir" "$raw_ir")"
both_raw=$(sum "$echo_ir" "$raw_ir")
both_cairn=$(sum "$broker_ir" "$lib_ir")
printf 'both ends    raw           %7s   cairn        %7s   ratio %sx\n' "$both_raw" "$both_cairn" "$(ratio "$both_cairn" "$both_raw")"
