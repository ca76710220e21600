#!/bin/sh
test_description='the shipped Grafana dashboard reads only metrics cairn-metrics(7) lists, each in
the statsd namespace of its type'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/metrics.sh"

DASHBOARD=$CAIRN_SRCDIR/etc/grafana/cairn-graphite.json

test_expect_success 'the dashboard is valid JSON with panels and Graphite targets' '
	jq -e ".panels | length >= 8" "$DASHBOARD" &&
	jq -r ".panels[].targets[].target" "$DASHBOARD" >targets &&
	test $(wc -l <targets) -ge 15
'
test_expect_success 'every metric it reads is in the reference, with the right type' '
	metrics_documented >documented &&
	dashboard_metrics "$DASHBOARD" >used &&
	test $(wc -l <used) -ge 15 &&
	comm -23 used documented >unlisted &&
	test_must_be_empty unlisted
'
test_expect_success 'it shows the cache, the hit rate, the backing store and the jobs' '
	grep "^content-cache.count gauge$" used &&
	grep "^content-cache.dirty gauge$" used &&
	grep "^content-cache.backing-load timer$" used &&
	grep "^jobs.state.run gauge$" used &&
	grep "^broker.requests counter$" used &&
	jq -e "[.panels[] | select(.title == \"Load hit rate\")] | length == 1" "$DASHBOARD" &&
	grep "asPercent(.*load-hits.*load-misses" targets
'
test_expect_success 'a misnamed or mistyped metric is caught' '
	jq ".panels[0].targets[0].target = \"stats.gauges.cairn.\$rank.content-cache.nosuch\" |
	    .panels[1].targets[0].target = \"stats.timers.cairn.\$rank.content-cache.count.mean_90\" |
	    .panels[2].targets[0].target = \"servers.cairn.\$rank.content-cache.size\"" \
		"$DASHBOARD" >bad.json &&
	dashboard_metrics bad.json >bad-used &&
	comm -23 bad-used documented >bad-unlisted &&
	cat >expect <<-\EOF_ &&
	content-cache.count timer
	content-cache.nosuch gauge
	servers.cairn.$rank.content-cache.size unknown
	EOF_
	test_cmp expect bad-unlisted
'
test_done
