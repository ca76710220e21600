#!/bin/sh
test_description='content durability: flushed blobs survive SIGKILL; dirty ones are flushed at exit'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

test_expect_success 'set up 2000 and 500 distinct blobs, one per line' '
	seq 1 2000 | sed "s/^/durable blob /" >blobs2000 &&
	seq 1 500 | sed "s/^/dirty blob /" >blobs500 &&
	seq 1 500 | sed "s/^/term blob /" >blobsterm
'
test_expect_success '2000 blobs stored and flushed, then the broker is killed with SIGKILL' '
	broker_start k --statedir sd-kill &&
	CAIRN_URI=$(broker_uri k) cairn content store --bulk <blobs2000 >refs2000 &&
	CAIRN_URI=$(broker_uri k) cairn content flush &&
	broker_signal k KILL &&
	broker_wait k &&
	echo 137 >expect &&
	test_cmp expect k.status &&
	test $(wc -l <refs2000) -eq 2000
'
test_expect_success 'a new broker on the same --statedir loads all 2000' '
	cairn start --statedir sd-kill "cairn content load --bulk <refs2000 >out2000" &&
	test_cmp blobs2000 out2000
'
test_expect_success '500 blobs stored without flush, then a normal exit' '
	cairn start --statedir sd-exit \
		"cairn content store --bulk <blobs500 >refs500 && cairn content stats >stats.json" &&
	test $(wc -l <refs500) -eq 500 &&
	test "$(jq .count stats.json)" = 500
'
test_expect_success 'all 500 are loadable after a restart' '
	cairn start --statedir sd-exit "cairn content load --bulk <refs500 >out500" &&
	test_cmp blobs500 out500
'
test_expect_success '500 blobs stored without flush, then SIGTERM' '
	broker_start t --statedir sd-term &&
	CAIRN_URI=$(broker_uri t) cairn content store --bulk <blobsterm >refsterm &&
	broker_signal t TERM &&
	broker_wait t &&
	echo 0 >expect &&
	test_cmp expect t.status
'
test_expect_success 'all 500 are loadable after a restart' '
	cairn start --statedir sd-term "cairn content load --bulk <refsterm >outterm" &&
	test_cmp blobsterm outterm
'
test_done
