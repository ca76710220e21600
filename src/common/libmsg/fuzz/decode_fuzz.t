#!/bin/sh
# Runs the libFuzzer target for cairn::msg::decode and BatchReader for a bounded number of inputs (TAP output).
# Built and run only with configure --enable-fuzzing (CXX=clang++).
fuzzer="${CAIRN_BUILDDIR:-.}/src/common/libmsg/fuzz/decode_fuzz"
echo "1..1"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
# Seeds: a valid request and a valid error response (frames split on \377\376).
printf '\001\001\000\000\007\000\000\000\001\000\000\000\000\000\000\000\377\376broker.ping\377\376hello' \
	>"$work/corpus/seed-request"
printf '\001\002\000\000\007\000\000\000\000\000\000\000\046\000\000\000\377\376no.such\377\376unknown service' \
	>"$work/corpus/seed-error"
# A batch of two requests (one frame: batch header, then entries with their lengths).
printf '\001\003\000\000\002\000\000\000\001\001\000\000\001\000\000\000\000\000\000\000\000\000\000\000\003\000\000\000\001\000\000\000a.bx\001\001\000\000\002\000\000\000\000\000\000\000\000\000\000\000\003\000\000\000\000\000\000\000c.d' \
	>"$work/corpus/seed-batch"
if "$fuzzer" -runs=200000 -max_total_time=60 -max_len=512 -artifact_prefix="$work/" \
	"$work/corpus" >"$work/log" 2>&1; then
	runs=$(sed -n 's/.*Done \([0-9]*\) runs.*/\1/p' "$work/log")
	echo "ok 1 - decode survives ${runs:-?} fuzzed inputs"
else
	sed 's/^/# /' "$work/log" | tail -40
	echo "not ok 1 - decode_fuzz found a crash (see the log above)"
fi
