#!/bin/sh
test_description='telemetry end to end: jobtap plugins with their own stats contexts, content-cache gauges, endpoint errors'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# Every listen is bounded by --timeout; a broker started without a command runs until the
# listener stops it (SIGTERM) once what it waits for has arrived.
plugin_i=$CAIRN_BUILDDIR/t/stats/.libs/stats-immediate.so
plugin_b=$CAIRN_BUILDDIR/t/stats/.libs/stats-basic.so
listen="cairn stats listen --timeout 20"

test_expect_success 'both plugins load and list' '
	cairn start "cairn jobtap load $plugin_i && cairn jobtap load $plugin_b && cairn jobtap list" >list.out &&
	grep "^stats-immediate	$plugin_i$" list.out &&
	grep "^stats-basic	$plugin_b$" list.out
'
test_expect_success 'prefix set' '
	$listen --search cairn.job.state.immediate. -- \
		cairn start "cairn jobtap load $plugin_i && cairn run true" >packets
'
test_expect_success 'the refused long prefix left the old one and logged nothing' '
	grep "^cairn\.job\.state\.immediate\.NEW:+1|g$" packets &&
	! grep "^xxxxxxxx" packets &&
	cairn start "cairn jobtap load $plugin_i && cairn dmesg" >dmesg.out &&
	! grep "was not refused" dmesg.out
'
test_expect_success 'multiple packets received' '
	$listen --count 3 -- cairn start "cairn jobtap load $plugin_i && cairn run true"
'
test_expect_success 'validate packets immediate' '
	$listen --validate --search cairn.job.state.immediate.INACTIVE:+1\|g -- \
		cairn start "cairn jobtap load $plugin_i && cairn run true" >packets &&
	grep "^cairn\.job\.state\.immediate\.RUN:-1|g$" packets
'
test_expect_success 'timing packets received immediate' '
	$listen --search cairn.job.state.immediate.cleanup.timing: -- \
		cairn start "cairn jobtap load $plugin_i && cairn run true" >packets &&
	grep "^cairn\.job\.state\.immediate\.cleanup\.timing:[0-9.e+-]*|ms$" packets &&
	grep "^cairn\.job\.state\.immediate\.inactive:1|c$" packets
'
test_expect_success 'timing packets received basic' '
	$listen --validate --search cairn.job.state.run.timing: -- \
		cairn start -o heartbeat.period=0.2 \
		"cairn jobtap load $plugin_b && cairn run true && exec sleep 60" >packets &&
	grep "^cairn\.job\.state\.RUN:1|c$" packets
'
test_expect_success 'both plugins keep their own prefix and period when loaded together' '
	$listen --validate --search cairn.job.state.run.timing: \
		--search cairn.job.state.immediate.cleanup.timing: -- \
		cairn start "cairn jobtap load $plugin_i && cairn jobtap load $plugin_b &&
			cairn run true && exec sleep 60" >packets &&
	grep "^cairn\.job\.state\.immediate\.RUN:+1|g$" packets &&
	grep "^cairn\.job\.state\.RUN:1|c$" packets
'
test_expect_success 'the shipped job-stats plugin reports jobs' '
	CAIRN_PLUGIN_PATH=$CAIRN_BUILDDIR/src/modules/job-manager/plugins/.libs \
	$listen --validate --search .jobs.run-time: --search .jobs.finished:1\|c -- \
		cairn start -o stats.period=0 "cairn jobtap load job-stats && cairn run true && exec sleep 60"
'
test_expect_success 'valid content-cache packets received' '
	$listen --validate --search content-cache -- cairn start -o heartbeat.period=0.2
'
test_expect_success 'nothing received with no endpoint' '
	$listen --none -- env -u CAIRN_STATSD cairn start -o heartbeat.period=0.1 \
		"cairn jobtap load $plugin_i && cairn jobtap load $plugin_b && cairn run true"
'
test_expect_success 'CAIRN_STATSD without a colon is a parse error in cairn dmesg' '
	CAIRN_STATSD=localhost cairn start cairn dmesg >dmesg.out &&
	grep "parse error" dmesg.out &&
	grep localhost dmesg.out
'
test_expect_success 'CAIRN_STATSD with an invalid host name is a parse error in cairn dmesg' '
	CAIRN_STATSD=thiscantpossiblybevalid.invalid:9000 cairn start cairn dmesg >dmesg.out &&
	grep "parse error" dmesg.out &&
	grep thiscantpossiblybevalid dmesg.out
'
test_expect_success 'a bad endpoint does not stop jobs or plugins' '
	CAIRN_STATSD=localhost cairn start "cairn jobtap load $plugin_i && cairn run echo ok" >out &&
	grep -x ok out
'
test_done
