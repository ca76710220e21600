#!/bin/sh
test_description='telemetry names: a jobtap plugin naming a gauge after an unknown job state ("?") sends nothing under that name, the refusal is counted, and a bad prefix is refused'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# stats-badname decrements the gauge of cairn_job_statetostr(-1), "?", once at load, and
# moves each job from the gauge of its previous state to that of its new one.
plugin=$CAIRN_BUILDDIR/t/stats/.libs/stats-badname.so
listen="cairn stats listen --timeout 20"

test_expect_success 'the "?" gauge never reaches the listener; valid lines do, and validate' '
	$listen --validate --search cairn.job.badname.loaded:1\|g \
		--search cairn.job.badname.INACTIVE:+1\|g -- \
		cairn start -o stats.period=0 "cairn jobtap load $plugin &&
			cairn stats status --json >status.json && cairn stats status >status.txt &&
			cairn dmesg >dmesg.out && cairn run true" >packets &&
	grep "^cairn\.job\.badname\.RUN:-1|g$" packets &&
	! grep "?" packets &&
	! grep "badname\.?" packets
'
test_expect_success 'the refused update is counted in cairn stats status' '
	grep "\"invalid_names\":1[,}]" status.json &&
	grep "^invalid_names  *1$" status.txt
'
test_expect_success 'the prefix with "?" was refused with EINVAL and the old one kept' '
	test -s dmesg.out &&
	! grep "was not refused" dmesg.out &&
	grep "^cairn\.job\.badname\.loaded:1|g$" packets
'
test_expect_success 'with telemetry off the refusal is still counted' '
	cairn start "cairn jobtap load $plugin && cairn stats status" >off.txt &&
	grep "^enabled  *no$" off.txt &&
	grep "^invalid_names  *1$" off.txt
'
test_expect_success 'a stats.prefix outside the portable set is refused at start, naming the character' '
	test_must_fail cairn start -o "stats.prefix=cairn.?" true 2>err &&
	grep "stats.prefix: .* contains .?., outside \[A-Za-z0-9_.-\]" err
'
test_done
