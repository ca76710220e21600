#!/bin/sh
test_description='cairn content: round trips, blobrefs, dedup, bulk, stats and every error path'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# blobref_of HASH FILE: what the cache must answer for FILE, from coreutils' digest.
blobref_of() {
	echo "$1-$(${1}sum <"$2" | cut -d" " -f1)"
}

test_expect_success 'set up blobs of 0, 1, 1 KiB and 1 MiB bytes' '
	: >blob0 &&
	printf x >blob1 &&
	head -c 1024 /dev/urandom >blob1k &&
	head -c 1048576 /dev/urandom >blob1m &&
	for f in blob0 blob1 blob1k blob1m; do blobref_of sha1 $f >$f.ref || return 1; done
'
test_expect_success 'store prints sha1- plus the sha1sum of the data; load gives it back byte for byte' '
	cat >roundtrip.sh <<-\EOF &&
	set -e
	for f in blob0 blob1 blob1k blob1m; do
		cairn content store <$f >$f.got
		cairn content load "$(cat $f.got)" >$f.out
	done
	EOF
	cairn start sh roundtrip.sh &&
	for f in blob0 blob1 blob1k blob1m; do
		test_cmp $f.ref $f.got && cmp $f $f.out || return 1
	done
'
test_expect_success 'blobs survive dropcache (read back from the backing store)' '
	cat >dropcache.sh <<-\EOF &&
	set -e
	ref=$(cairn content store <blob1m)
	cairn content flush
	cairn content dropcache
	cairn content stats >stats.json
	cairn content load "$ref" >blob1m.dropped
	EOF
	cairn start sh dropcache.sh &&
	test "$(jq .count stats.json)" = 0 &&
	cmp blob1m blob1m.dropped
'
test_expect_success 'content.hash=sha256 gives sha256 blobrefs' '
	blobref_of sha256 blob1k >expect &&
	cairn start -o content.hash=sha256 \
		"cairn content store <blob1k >got && cairn content load \$(cat got) >out" &&
	test_cmp expect got &&
	cmp blob1k out
'
test_expect_success 'storing a blob twice gives one entry and counts a dedup' '
	cairn start "cairn content store <blob1k >a && cairn content store <blob1k >b &&
		cairn content stats >stats.json" &&
	test_cmp a b &&
	test "$(jq .count stats.json)" = 1 &&
	test "$(jq ".[\"store-dedups\"]" stats.json)" = 1
'
test_expect_success 'stats counts entries, dirty ones and bytes; flush leaves none dirty' '
	cairn start -o content.backing=none \
		"cairn content store <blob1 >/dev/null && cairn content store <blob1k >/dev/null &&
		cairn content stats >none.json" &&
	test "$(jq .count none.json)" = 2 &&
	test "$(jq .valid none.json)" = 2 &&
	test "$(jq .dirty none.json)" = 2 &&
	test "$(jq .size none.json)" = 1025 &&
	cairn start "cairn content store <blob1 >/dev/null && cairn content store <blob1k >/dev/null &&
		cairn content flush && cairn content stats >sqlite.json" &&
	test "$(jq .dirty sqlite.json)" = 0 &&
	test "$(jq ".[\"flush-batch-count\"]" sqlite.json)" = 0 &&
	test "$(jq .size sqlite.json)" = 1025
'
test_expect_success 'store --bulk and load --bulk handle one blob per line, in order' '
	seq 1 300 | sed "s/^/line /" >lines &&
	cairn start "cairn content store --bulk <lines >refs && cairn content load --bulk <refs >out" &&
	test $(wc -l <refs) -eq 300 &&
	test_cmp lines out &&
	printf "line 7" >line7 &&
	blobref_of sha1 line7 >expect &&
	sed -n 7p refs >got &&
	test_cmp expect got
'
test_expect_success 'a blob over content.blob-size-limit is refused with both sizes' '
	head -c 101 /dev/zero >blob101 &&
	test_must_fail cairn start -o content.blob-size-limit=100 \
		"cairn content store <blob101" 2>err &&
	grep -x "cairn: content store: blob too large (101 > limit 100 bytes)" err &&
	cairn start -o content.blob-size-limit=101 "cairn content store <blob101"
'
test_expect_success 'loading an unknown blob names it: no such blob' '
	test_must_fail cairn start \
		"cairn content load sha1-0123456789abcdef0123456789abcdef01234567" 2>err &&
	grep -x "cairn: content load: sha1-0123456789abcdef0123456789abcdef01234567: no such blob" err
'
test_expect_success 'loading a malformed blobref says so (wrong form and wrong size)' '
	test_must_fail cairn start "cairn content load not-a-blobref" 2>err &&
	grep -x "cairn: content load: not-a-blobref: malformed blobref" err &&
	test_must_fail cairn start "cairn content load sha1-0123" 2>err &&
	grep -x "cairn: content load: sha1-0123: malformed blobref" err &&
	test_must_fail cairn start \
		"cairn content load sha256-0123456789abcdef0123456789abcdef01234567" 2>err &&
	grep -x "cairn: content load: sha256-0123456789abcdef0123456789abcdef01234567: malformed blobref" err
'
test_expect_success 'a sha256 blobref on a sha1 broker says the broker uses sha1 and how to change it' '
	ref=$(blobref_of sha256 blob1) &&
	test_expect_code 1 cairn start "cairn content load $ref" 2>err &&
	echo "cairn: content load: $ref: the blobref is sha256, but this broker uses sha1 (content.hash = \"sha1\"): give a sha1 blobref, or load it from a broker started with content.hash = \"sha256\" (-o content.hash=sha256)" >expected &&
	test_cmp expected err
'
test_expect_success 'a sha1 blobref on a sha256 broker says the broker uses sha256' '
	ref=$(blobref_of sha1 blob1) &&
	test_expect_code 1 cairn start -o content.hash=sha256 "cairn content load $ref" 2>err &&
	grep -F "cairn: content load: $ref: the blobref is sha1, but this broker uses sha256 (content.hash = \"sha256\")" err &&
	test_expect_code 1 cairn start -o content.hash=sha256 \
		"echo $ref | cairn content load --bulk" 2>err &&
	grep -F "cairn: content load: $ref: the blobref is sha1, but this broker uses sha256" err
'
test_expect_success 'load without a blobref says what to give, a usage error (exit 2)' '
	test_expect_code 2 cairn start "cairn content load" 2>err &&
	grep "cairn: content load: give a BLOBREF" err
'
test_expect_success 'flush with content.backing=none fails with a reason' '
	test_must_fail cairn start -o content.backing=none "cairn content flush" 2>err &&
	grep "cairn: content flush: content.backing is none" err
'
test_expect_success 'content.backing=none keeps blobs in memory and writes no database' '
	cairn start -o content.backing=none --statedir mem \
		"cairn content store <blob1k >ref && cairn content dropcache &&
		cairn content load \$(cat ref) >out" &&
	cmp blob1k out &&
	! test -e mem/content.sqlite
'
test_expect_success 'content commands outside cairn start explain CAIRN_URI' '
	test_must_fail cairn content store <blob1 2>err &&
	grep "^cairn: CAIRN_URI is not set" err &&
	test_must_fail cairn content stats 2>err &&
	grep "^cairn: CAIRN_URI is not set" err
'
test_expect_success 'an unknown content.backing stops cairn start naming the key' '
	test_must_fail cairn start -o content.backing=tape true 2>err &&
	grep "content.backing" err
'
test_done
