#!/bin/sh
test_description='content: a backing store that really fails keeps blobs dirty; they land once it recovers

The broker runs with a soft file-size limit (RLIMIT_FSIZE) and SIGXFSZ ignored, so SQLite
writes past the limit really fail (EFBIG, reported by SQLite as an I/O error). Raising the limit
on the running broker with prlimit (util-linux) is the recovery.'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

test_expect_success 'set up 300 blobs of 1 KiB, one per line' '
	for i in $(seq 1 300); do
		printf "%04d" "$i"; head -c 1020 /dev/zero | tr "\\0" x; echo
	done >blobs &&
	test $(wc -l <blobs) -eq 300
'
test_expect_success 'start a broker whose files may not grow past 64 KiB' '
	trap "" XFSZ &&
	BROKER_PREFIX="prlimit --fsize=65536:" broker_start f --statedir sd \
		-o heartbeat.period=0.2 &&
	trap - XFSZ
'
test_expect_success 'stores succeed: they only need memory' '
	CAIRN_URI=$(broker_uri f) cairn content store --bulk <blobs >refs &&
	test $(wc -l <refs) -eq 300
'
test_expect_success 'flush fails with the reason, and says the blobs are kept' '
	test_must_fail env CAIRN_URI="$(broker_uri f)" cairn content flush 2>err &&
	grep "backing store write failed" err &&
	grep "the blobs stay in memory" err
'
test_expect_success 'the broker warns in its log and on stderr' '
	wait_for 20 grep -q "backing store write(s) failed" f.err &&
	CAIRN_URI=$(broker_uri f) cairn dmesg >dmesg.out &&
	grep "backing store write(s) failed: Input/output error" dmesg.out
'
test_expect_success 'the failed blobs are still dirty, and all still load' '
	CAIRN_URI=$(broker_uri f) cairn content stats >stats.json &&
	test "$(jq .dirty stats.json)" -gt 0 &&
	test "$(jq ".\"backing-errors\"" stats.json)" -gt 0 &&
	test "$(jq ".\"backing-failure-errno\"" stats.json)" -eq 5 &&
	CAIRN_URI=$(broker_uri f) cairn content load --bulk <refs >out &&
	test_cmp blobs out
'
test_expect_success 'once the limit is lifted, flush succeeds and nothing is dirty' '
	prlimit --pid "$(cat f.pid)" --fsize=unlimited: &&
	CAIRN_URI=$(broker_uri f) cairn content flush &&
	CAIRN_URI=$(broker_uri f) cairn content stats >stats.json &&
	test "$(jq .dirty stats.json)" -eq 0
'
test_expect_success 'the log says the writes succeed again' '
	wait_for 20 sh -c "CAIRN_URI=\"\$1\" cairn dmesg | grep -q \"writes succeed again\"" - "$(broker_uri f)"
'
test_expect_success 'after SIGKILL, a new broker loads every blob from the file' '
	broker_signal f KILL &&
	broker_wait f &&
	cairn start --statedir sd "cairn content load --bulk <refs >out2" &&
	test_cmp blobs out2
'
test_done
