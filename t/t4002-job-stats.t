#!/bin/sh
test_description='job-stats: absolute job-state gauges over real UDP, whenever the plugin is
loaded, through job.destroy and across a broker restart'
. "$(dirname "$0")/lib/sharness-cairn.sh"

CAIRN_PLUGIN_PATH=$CAIRN_BUILDDIR/src/modules/job-manager/plugins/.libs
export CAIRN_PLUGIN_PATH
# Without criteria the listener prints every line until the command exits (immediate mode:
# each change is its own packet, in order) and exits with the command's status.
listen="cairn stats listen --timeout 60"

# values NAME <packets: the values of gauge NAME in arrival order, one per line.
values() {
	sed -n "s/^cairn\.0\.jobs\.state\.$1:\([^|]*\)|g$/\1/p"
}

test_expect_success 'loaded while a job runs: run is 1, never -1, and no gauge is a delta' '
	rm -f release &&
	mkfifo release &&
	cat >busy.sh <<-\EOF &&
	id=$(cairn submit cat release) &&
	cairn jobtap load job-stats &&
	echo go >release &&
	cairn job wait $id
	EOF
	$listen -- cairn start -o stats.period=0 sh ./busy.sh >packets &&
	! grep "jobs\.state\.[a-z]*:[-+]" packets &&
	values run <packets >run.seen &&
	# load: 0, then the running job told at load: 1; it ends: 0; shutdown: still 0.
	printf "0\n1\n0\n" >run.expected &&
	test_cmp run.expected run.seen
'
test_expect_success 'the job loaded while running finished as one job, not -1' '
	values cleanup <packets >cleanup.seen &&
	printf "0\n1\n0\n" >cleanup.expected &&
	test_cmp cleanup.expected cleanup.seen &&
	# Declared at load (0), never counted: the job was submitted before the plugin came.
	grep "^cairn\.0\.jobs\.submitted:0|c$" packets &&
	! grep "jobs\.submitted:[1-9]" packets &&
	grep "^cairn\.0\.jobs\.finished:1|c$" packets
'
test_expect_success 'job.destroy: jobs leave the counts; a restarted broker starts from its own' '
	cat >two.sh <<-\EOF &&
	cairn start --statedir state -o stats.period=0 -o "job-manager.plugins=[\"job-stats\"]" \
		"cairn run true && cairn run true && cairn run true" &&
	cairn start --statedir state -o stats.period=0 -o "job-manager.plugins=[\"job-stats\"]" \
		"cairn run true"
	EOF
	$listen -- sh ./two.sh >packets &&
	! grep "jobs\.state\.[a-z]*:[-+]" packets &&
	values inactive <packets >inactive.seen &&
	# first broker: load 0, three jobs 1 2 3, shutdown forgets them 2 1 0;
	# second broker: load 0 (not 3), its job 1, shutdown 0.
	printf "%s\n" 0 1 2 3 2 1 0 0 1 0 >inactive.expected &&
	test_cmp inactive.expected inactive.seen
'
test_expect_success 'aggregated (the default period): each period carries absolute values' '
	rm -f release2 &&
	mkfifo release2 &&
	cat >agg.sh <<-\EOF &&
	id=$(cairn submit cat release2) &&
	cairn jobtap load job-stats period=0.05 &&
	echo go >release2 &&
	cairn job wait $id
	EOF
	cairn stats listen --timeout 60 --search "jobs.state.inactive:1|g" -- \
		cairn start sh -c "sh ./agg.sh && exec sleep 60" >packets &&
	! grep "jobs\.state\.[a-z]*:[-+]" packets &&
	test "$(values run <packets | tail -1)" = 0
'
test_done
