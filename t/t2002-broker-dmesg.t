#!/bin/sh
test_description='broker services from the command line: ping, dmesg, stats.status, unknown
topics, malformed messages, a bad CAIRN_STATSD'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

SEND_RAW="$CAIRN_BUILDDIR/src/common/libclient/test/send_raw"

test_expect_success 'the initial program can talk to the broker' '
	cairn start cairn ping >out &&
	grep "^broker.ping: time=" out
'
test_expect_success 'dmesg shows what the broker logged at start' '
	cairn start cairn dmesg >out &&
	grep " info: broker up at local://" out
'
test_expect_success 'an unknown topic is answered with "unknown service"' '
	cairn start "cairn rpc no.such.topic; echo \$? >rc; cairn ping" 2>err >out &&
	echo 1 >expect &&
	test_cmp expect rc &&
	grep "^cairn: no.such.topic: unknown service: no.such.topic$" err &&
	grep "^broker.ping: time=" out
'
test_expect_success 'CAIRN_STATSD without a port is a parse error in dmesg; the broker runs on' '
	CAIRN_STATSD=localhost cairn start "cairn dmesg && cairn ping" >out 2>err &&
	grep "parse error.*localhost" out &&
	grep "^broker.ping: time=" out &&
	grep "^cairn-broker: stats: parse error" err
'
test_expect_success 'an unresolvable CAIRN_STATSD host is a parse error in dmesg' '
	CAIRN_STATSD=nosuchhost.invalid:8125 cairn start "cairn dmesg && cairn ping" >out 2>err &&
	grep "parse error.*nosuchhost.invalid" out &&
	grep "^broker.ping: time=" out
'
test_expect_success 'stats.status reports telemetry off when no endpoint is set' '
	cairn start cairn rpc stats.status >out &&
	grep "\"enabled\":false" out &&
	grep "\"endpoint\":\"\"" out
'
test_expect_success 'stats.endpoint from -o wins over the file and CAIRN_STATSD' '
	printf "[stats]\nendpoint = \"127.0.0.1:1\"\n" >stats.toml &&
	CAIRN_STATSD=127.0.0.1:3 cairn start --config stats.toml -o stats.endpoint=127.0.0.1:2 \
		cairn rpc stats.status >out &&
	grep "\"enabled\":true" out &&
	grep "\"endpoint\":\"127.0.0.1:2\"" out
'
test_expect_success 'the file wins over CAIRN_STATSD' '
	CAIRN_STATSD=127.0.0.1:3 cairn start --config stats.toml cairn rpc stats.status >out &&
	grep "\"endpoint\":\"127.0.0.1:1\"" out
'
test_expect_success 'start a broker in the background' '
	broker_start b --statedir sd &&
	CAIRN_URI=$(broker_uri b) && export CAIRN_URI
'
test_expect_success 'malformed frames and messages are dropped and the broker still answers' '
	"$SEND_RAW" "$CAIRN_URI" "one frame" &&
	"$SEND_RAW" --entries "$CAIRN_URI" "\x09\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
		"broker.ping" "" &&
	"$SEND_RAW" "$CAIRN_URI" "\x01\x03\x00\x00\x02\x00\x00\x00" &&
	"$SEND_RAW" "$CAIRN_URI" "" &&
	cairn ping
'
test_expect_success 'each is logged with the reason' '
	cairn dmesg >out &&
	grep "warning: closed the local:// connection of uid [0-9]* pid [0-9]*: a malformed frame: batch: not a batch header" out &&
	grep "warning: dropped a malformed message from client uid [0-9]* pid [0-9]*: unknown protocol version 9" out &&
	grep "warning: closed the local:// connection .*: a malformed frame: batch: message 1 of 2 is cut short" out &&
	grep "warning: closed the local:// connection .*: stream: a frame of length 0" out &&
	grep "closed the local:// connection of uid" b.err
'
test_expect_success 'the broker is still running after all of that' '
	cairn ping -c 3 >out &&
	test "$(grep -c "^broker.ping: time=" out)" -eq 3
'
test_expect_success 'stop the broker' '
	broker_signal b TERM &&
	broker_wait b &&
	echo 0 >expect &&
	test_cmp expect b.status
'
test_done
