#!/bin/sh
test_description='the broker own statsd context: prefix, rank, period, stats.status counters'
. "$(dirname "$0")/lib/sharness-cairn.sh"

test_expect_success 'each request counts in <prefix>.broker.requests (immediate mode)' '
	cairn stats listen --validate --search "cairn.0.broker.requests:1|c" --timeout 20 -- \
		cairn start -o stats.period=0 cairn ping >out &&
	grep "^cairn.0.broker.requests:1|c$" out
'
test_expect_success '--rank sets the default prefix' '
	cairn stats listen --search "cairn.3.broker.requests:" --timeout 20 -- \
		cairn start --rank 3 -o stats.period=0 cairn ping >out &&
	grep "^cairn.3.broker.requests:" out
'
test_expect_success 'stats.prefix replaces the prefix' '
	cairn stats listen --search "site.cache1.broker.requests:" --timeout 20 -- \
		cairn start -o stats.prefix=site.cache1 -o stats.period=0 cairn ping >out &&
	grep "^site.cache1.broker.requests:" out &&
	! grep "^cairn\.0\." out
'
test_expect_success 'stats.status counts what the broker sent' '
	cairn stats listen --timeout 20 -- \
		cairn start -o stats.period=0 "cairn ping && cairn rpc stats.status" >out &&
	grep "\"enabled\":true" out &&
	grep "\"endpoint\":\"127.0.0.1:[0-9]*\"" out &&
	grep "\"packets\":[1-9]" out &&
	grep "\"send_errors\":0" out
'
# Disabled telemetry is checked with a listener the broker can reach (CAIRN_STATSD names it), so
# that a broker which sent anyway would be caught; the first test shows it would be.
test_expect_success 'a broker that sends is caught by stats listen --none' '
	test_must_fail cairn stats listen --none --timeout 20 -- \
		cairn start -o stats.period=0 "cairn ping" 2>err &&
	grep "expected no packets, got one: \"cairn\.0\." err
'
test_expect_success 'stats.endpoint set empty with -o overrides CAIRN_STATSD: nothing is sent' '
	cairn stats listen --none --timeout 20 -- \
		cairn start -o stats.endpoint= -o stats.period=0 \
		"cairn ping && cairn ping && cairn rpc stats.status" >out &&
	grep "\"enabled\":false" out &&
	grep "\"endpoint\":\"\"" out &&
	grep "\"packets\":0" out
'
test_expect_success 'stats.endpoint = "" in the configuration file: nothing is sent' '
	printf "[stats]\nendpoint = \"\"\nperiod = 0\n" >off.toml &&
	cairn stats listen --none --timeout 20 -- \
		cairn start --config off.toml "cairn ping && cairn ping"
'
test_expect_success 'without CAIRN_STATSD or stats.endpoint telemetry is off' '
	env -u CAIRN_STATSD cairn start "cairn rpc stats.status" >out &&
	grep "\"enabled\":false" out &&
	grep "\"endpoint\":\"\"" out
'
test_done
