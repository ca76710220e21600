#!/bin/sh
# Runs the libFuzzer target for the local:// frame decoder for a bounded number of inputs (TAP
# output). Built and run only with configure --enable-fuzzing (CXX=clang++).
fuzzer="${CAIRN_BUILDDIR:-.}/src/common/libmsg/fuzz/stream_fuzz"
echo "1..1"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
# Seed: reads of 5 bytes; one frame holding a batch of one request.
printf '\004\054\000\000\000\001\003\000\000\001\000\000\000\001\001\000\000\001\000\000\000\000\000\000\000\000\000\000\000\013\000\000\000\001\000\000\000broker.pingx' \
	>"$work/corpus/seed-frame"
if "$fuzzer" -runs=200000 -max_total_time=60 -max_len=512 -artifact_prefix="$work/" \
	"$work/corpus" >"$work/log" 2>&1; then
	runs=$(sed -n 's/.*Done \([0-9]*\) runs.*/\1/p' "$work/log")
	echo "ok 1 - the stream decoder survives ${runs:-?} fuzzed inputs"
else
	sed 's/^/# /' "$work/log" | tail -40
	echo "not ok 1 - stream_fuzz found a crash (see the log above)"
fi
