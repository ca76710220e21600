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
test_expect_success 'broker.rank in the configuration file sets the default prefix' '
	printf "[broker]\nrank = 7\n" >rank.toml &&
	cairn stats listen --search "cairn.7.broker.requests:" --timeout 20 -- \
		cairn start --config rank.toml -o stats.period=0 cairn ping >out &&
	grep "^cairn.7.broker.requests:" out
'
test_expect_success '--rank wins over broker.rank' '
	cairn stats listen --search "cairn.2.broker.requests:" --timeout 20 -- \
		cairn start --config rank.toml --rank 2 -o stats.period=0 cairn ping >out &&
	grep "^cairn.2.broker.requests:" out &&
	! grep "^cairn\.7\." out
'
test_expect_success 'stats.prefix takes {host} (up to the first dot) and {rank}' '
	host=$(uname -n) && host=${host%%.*} &&
	cairn stats listen --search "site.$host.r4.broker.requests:" --timeout 20 -- \
		cairn start -o "stats.prefix=site.{host}.r{rank}" -o broker.rank=4 \
		-o stats.period=0 cairn ping >out &&
	grep "^site\.$host\.r4\.broker\.requests:" out
'
test_expect_success 'an unknown {...} in stats.prefix is a config error naming the key' '
	test_expect_code 2 cairn start -o "stats.prefix=cairn.{hostname}" true 2>err &&
	grep "^cairn: start: --option: stats.prefix: unknown placeholder {hostname}" err &&
	grep "use {rank}" err
'
test_expect_success 'every declared counter is sent, 0 included, before anything happened' '
	cairn stats listen --timeout 60 \
		--search "cairn.0.broker.requests:0|c" \
		--search "cairn.0.broker.replies-refused:0|c" \
		--search "cairn.0.content-cache.backing-read-errors:0|c" \
		--search "cairn.0.content-cache.backing-corrupt:0|c" \
		--search "cairn.0.content-cache.backing-bytes-read:0|c" \
		--search "cairn.0.content-cache.backing-bytes-written:0|c" \
		--search "cairn.0.content-cache.load-hits:0|c" \
		-- cairn start -o heartbeat.period=0.1 -o stats.period=0.05 >out &&
	! grep "broker.requests:[1-9]" out
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
