#!/bin/sh
test_description='cairn stats status: the broker telemetry counters, and a broker under cairn stats listen'
. "$(dirname "$0")/lib/sharness-cairn.sh"

test_expect_success 'without CAIRN_URI it says how to reach a broker' '
	test_must_fail cairn stats status 2>err &&
	grep "^cairn: CAIRN_URI is not set" err
'
test_expect_success 'a broker without an endpoint reports telemetry off' '
	cairn start cairn stats status >out &&
	grep "^enabled  *no$" out &&
	grep "^endpoint  *-$" out &&
	grep "^packets  *0$" out &&
	grep "^send_errors  *0$" out
'
test_expect_success '--json prints the broker reply' '
	cairn start cairn stats status --json >out &&
	grep "^{.*\"enabled\":false.*}$" out &&
	grep "\"endpoint\":\"\"" out &&
	grep "\"dropped_samples\":0" out
'
test_expect_success 'under cairn stats listen the broker sends to the listener and counts it' '
	cairn stats listen -- cairn start -o stats.period=0 \
		sh -c "cairn stats status >s1 && cairn stats status --json >s2 && echo \$CAIRN_STATSD >addr" \
		>lines &&
	grep "^enabled  *yes$" s1 &&
	grep "^endpoint  *$(cat addr)$" s1 &&
	grep "\"endpoint\":\"$(cat addr)\"" s2 &&
	packets=$(sed -n "s/.*\"packets\":\([0-9]*\).*/\1/p" s2) &&
	test "$packets" -ge 1 &&
	grep "^cairn\.0\.broker\.requests:[0-9]*|c$" lines
'
test_expect_success 'README: listen --summary around a broker, stopped by a signal, exits 0 with a table' '
	rm -f out err || return 1
	cairn stats listen --summary --timeout 120 -- \
		cairn start -o heartbeat.period=0.5 -o stats.period=0 >out 2>err &
	pid=$! &&
	test_when_finished "kill -TERM $pid 2>/dev/null || :" &&
	wait_for 20 grep "broker up at" err &&
	uri=$(sed -n "s/^cairn: broker up at \([^;]*\);.*/\1/p" err) &&
	CAIRN_URI=$uri cairn ping --count 1 >/dev/null &&
	wait_for 20 grep "broker.requests" out &&
	kill -TERM $pid &&
	wait $pid &&
	grep "^NAME  *TYPE  *LAST  *SUM  *RATE/S  *LINES$" out &&
	grep "^cairn\.0\.broker\.requests  *c  *[01]  *1  *[0-9.]*  *[0-9]*$" out
'
test_done
