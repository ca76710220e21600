#!/bin/sh
test_description='cairn --uri and --timeout: they set what CAIRN_URI and CAIRN_RPC_TIMEOUT set, and win'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

test_expect_success 'cairn --help lists --uri and --timeout with their environment variables' '
	cairn --help >out &&
	grep -- "--uri URI .*CAIRN_URI" out &&
	grep -- "--timeout SECONDS .*CAIRN_RPC_TIMEOUT" out &&
	grep "^Environment: CAIRN_URI" out
'
test_expect_success 'start a broker in the background' '
	broker_start b &&
	uri=$(broker_uri b) &&
	test -n "$uri"
'
test_expect_success '--uri reaches the broker without CAIRN_URI' '
	cairn --uri "$(broker_uri b)" ping >out &&
	grep "^broker.ping: time=" out
'
test_expect_success '--uri wins over CAIRN_URI' '
	CAIRN_URI="$(broker_uri b).nosuch" cairn --uri "$(broker_uri b)" ping >out &&
	grep "^broker.ping: time=" out &&
	test_expect_code 1 env CAIRN_URI="$(broker_uri b)" cairn --uri "$(broker_uri b).nosuch" \
		ping 2>err &&
	grep -F "cairn: $(broker_uri b).nosuch: cannot connect" err
'
test_expect_success '--timeout wins over CAIRN_RPC_TIMEOUT, even one that is not a number' '
	CAIRN_RPC_TIMEOUT=soon cairn --uri "$(broker_uri b)" --timeout 5 ping >out &&
	grep "^broker.ping: time=" out &&
	test_expect_code 1 env CAIRN_RPC_TIMEOUT=soon cairn --uri "$(broker_uri b)" ping 2>err &&
	grep "^cairn: CAIRN_RPC_TIMEOUT: .soon. is not a positive number of seconds$" err
'
test_expect_success 'a broker that does not answer: --timeout bounds the wait, not CAIRN_RPC_TIMEOUT' '
	broker_signal b STOP &&
	test_when_finished "broker_signal b CONT" &&
	test_expect_code 1 env CAIRN_RPC_TIMEOUT=600 \
		timeout 60 cairn --uri "$(broker_uri b)" --timeout 0.2 ping 2>err &&
	grep "^cairn: broker.ping: no answer from the broker within 0.2 s" err
'
test_expect_success 'a bad --timeout or a --uri without a value is a usage error (exit 2)' '
	test_expect_code 2 cairn --timeout 0 ping 2>err &&
	echo "cairn: --timeout: 0 is not allowed: expected more than 0 seconds (see cairn --help)" >expected &&
	test_cmp expected err &&
	test_expect_code 2 cairn --timeout soon ping 2>err &&
	grep -x "cairn: --timeout: .soon. is not a number of seconds (see cairn --help)" err &&
	test_expect_code 2 cairn --uri 2>err &&
	grep "^cairn: .*--uri" err
'
test_expect_success 'stop the broker' '
	broker_signal b TERM &&
	broker_wait b &&
	test "$(cat b.status)" = 0
'
test_done
