#!/bin/sh
test_description='content-cache gauges reach a real UDP statsd listener every heartbeat'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# The initial program stores blobs, then keeps the broker up (`exec sleep`) until the listener
# has seen every line it searches for and stops it; --timeout bounds the wait.
test_expect_success 'set up two blobs (1 + 1024 bytes)' '
	printf x >blob1 &&
	head -c 1024 /dev/urandom >blob1k
'
test_expect_success 'the five gauges arrive with the cache numbers (sqlite backing)' '
	cairn stats listen --timeout 20 \
		--search "content-cache.count:2|g" \
		--search "content-cache.valid:2|g" \
		--search "content-cache.size:1025|g" \
		--search "content-cache.dirty:0|g" \
		--search "content-cache.flush-batch-count:0|g" \
		-- cairn start -o heartbeat.period=0.2 \
		"cairn content store <blob1 >/dev/null && cairn content store <blob1k >/dev/null &&
		cairn content flush && exec sleep 60" >out &&
	grep "^cairn\.0\.content-cache\.count:2|g$" out
'
test_expect_success 'dirty counts every blob when there is no backing store' '
	cairn stats listen --timeout 20 \
		--search "content-cache.dirty:2|g" \
		--search "content-cache.count:2|g" \
		-- cairn start -o heartbeat.period=0.2 -o content.backing=none \
		"cairn content store <blob1 >/dev/null && cairn content store <blob1k >/dev/null &&
		exec sleep 60" >out
'
test_expect_success 'load hits and store dedups are counted' '
	cairn stats listen --timeout 20 \
		--search "content-cache.load-hits:1|c" \
		--search "content-cache.store-dedups:1|c" \
		-- cairn start -o heartbeat.period=0.2 \
		"ref=\$(cairn content store <blob1) && cairn content store <blob1 >/dev/null &&
		cairn content load \$ref >/dev/null && exec sleep 60" >out
'
test_done
