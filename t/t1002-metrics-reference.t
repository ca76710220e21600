#!/bin/sh
test_description='cairn-metrics(7) lists every metric name the broker and the shipped job-stats
plugin send'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/metrics.sh"

CAIRN_PLUGIN_PATH=$CAIRN_BUILDDIR/src/modules/job-manager/plugins/.libs
export CAIRN_PLUGIN_PATH

# Names the reference documents.
documented() {
	metrics_documented | cut -d" " -f1 | sort -u
}

test_expect_success 'the reference documents names of every type' '
	documented >documented &&
	test $(wc -l <documented) -ge 25 &&
	grep "^content-cache.backing-load$" documented &&
	grep "^jobs.state.run$" documented
'
# The initial program touches every path that sends a metric: stores (one a dedup), a flush,
# a load hit, a dropcache then a load that reads the backing store, the job-stats plugin and a
# job. It then waits (exec sleep) until the listener has seen the last lines and stops it.
test_expect_success 'a broker doing every kind of work sends only documented names' '
	echo one >blob1 && echo two >blob2 &&
	cairn stats listen --timeout 30 --validate \
		--search "content-cache.backing-load:" \
		--search "content-cache.backing-bytes-read:" \
		--search "jobs.finished:1|c" \
		--search "jobs.run-time:" \
		--search "content-cache.load-hits:" \
		-- cairn start -o heartbeat.period=0.2 -o stats.period=0.1 \
		"cairn jobtap load job-stats &&
		 r=\$(cairn content store <blob1) && cairn content store <blob1 >/dev/null &&
		 cairn content store <blob2 >/dev/null && cairn content flush &&
		 cairn content load \$r >/dev/null && cairn content dropcache &&
		 cairn content load \$r >/dev/null && cairn run true &&
		 exec sleep 60" >out &&
	sed -n "s/^cairn\.0\.\([^:]*\):.*/\1/p" out | sort -u >sent &&
	test $(wc -l <sent) -ge 15 &&
	documented >documented &&
	comm -23 sent documented >undocumented &&
	test_must_be_empty undocumented
'
test_expect_success 'a name missing from the reference is caught' '
	grep -v "^content-cache.load-hits$" documented >partial &&
	comm -23 sent partial >undocumented &&
	echo content-cache.load-hits >expect &&
	test_cmp expect undocumented
'
test_done
