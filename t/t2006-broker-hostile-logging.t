#!/bin/sh
test_description='a stderr nobody reads never freezes the broker, and a flood of malformed
messages is rate-limited in the log'
. "$(dirname "$0")/lib/sharness-cairn.sh"

SEND_RAW="$CAIRN_BUILDDIR/src/common/libclient/test/send_raw"

# The broker's stderr is a FIFO that this shell holds open for reading (fd 9, O_RDWR so that
# opening it does not wait) and never reads: once its 64 KiB fill, a synchronous write blocks.
test_expect_success 'start a broker whose stderr nobody reads' '
	mkfifo stderr.fifo &&
	exec 9<>stderr.fifo &&
	( cairn start --statedir sd -o heartbeat.period=0.1 >uri 2>stderr.fifo &
	  echo $! >pid; wait $!; echo $? >status ) &
	wait_for 20 test -s uri &&
	CAIRN_URI=$(cat uri) && export CAIRN_URI
'
test_expect_success '3000 malformed messages and 3000 refused-response warnings later it answers' '
	"$SEND_RAW" --count 3000 "$CAIRN_URI" "one frame" &&
	"$SEND_RAW" --count 3000 --entries "$CAIRN_URI" "\x01\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
		"broker.ping" "" &&
	cairn ping -c 2 >out &&
	test "$(grep -c "^broker.ping: time=" out)" -eq 2
'
test_expect_success 'the log holds a burst of each kind, not thousands' '
	cairn dmesg >dmesg &&
	test $(grep -c "a malformed frame" dmesg) -le 5 &&
	test $(grep -c "dropped a response message" dmesg) -le 5 &&
	test $(grep -c "a malformed frame" dmesg) -ge 1
'
test_expect_success 'SIGTERM still stops it promptly' '
	kill -TERM $(cat pid) &&
	wait_for 30 test -s status &&
	echo 0 >expect &&
	test_cmp expect status
'
exec 9<&-
test_done
