#!/bin/sh
test_description='jobtap: cairn jobtap load, list and remove; load failures with reasons; outside plugins'
. "$(dirname "$0")/lib/sharness-cairn.sh"

plugins=$CAIRN_BUILDDIR/src/modules/job-manager/test/plugins/.libs
CAIRN_PLUGIN_PATH=$CAIRN_BUILDDIR/src/modules/job-manager/plugins/.libs
export CAIRN_PLUGIN_PATH

test_expect_success 'load a plugin by name, list it, remove it' '
	cat >by-name.sh <<-\EOF &&
	cairn jobtap load job-stats &&
	cairn jobtap list >list1.out &&
	cairn jobtap remove job-stats &&
	cairn jobtap list >list2.out
	EOF
	cairn start sh ./by-name.sh &&
	grep "^job-stats	.*/job-stats.so$" list1.out &&
	test_must_be_empty list2.out
'
test_expect_success 'load by path with KEY=VALUE settings; list shows them' '
	cat >by-path.sh <<-EOF &&
	cairn jobtap load $plugins/probe.so glob=job.new color=blue &&
	cairn jobtap list
	EOF
	cairn start sh ./by-path.sh >list.out 2>by-path.err &&
	grep "^probe	$plugins/probe.so color=blue glob=job.new$" list.out &&
	grep -x "cairn: jobtap load: probe: setting .color. was not used by the plugin (a typo?)" \
		by-path.err &&
	! grep "glob" by-path.err
'
test_expect_success 'a setting the plugin never read is warned of; the plugin is loaded all the same' '
	cat >typo.sh <<-\EOF &&
	cairn jobtap load job-stats perod=5 prefix=jobs.x &&
	echo "load: $?" &&
	cairn jobtap list &&
	cairn dmesg >typo-dmesg.out
	EOF
	cairn start sh ./typo.sh >typo.out 2>typo.err &&
	grep "^load: 0$" typo.out &&
	grep "^job-stats	.*/job-stats.so perod=5 prefix=jobs.x$" typo.out &&
	grep -x "cairn: jobtap load: job-stats: setting .perod. was not used by the plugin (a typo?)" \
		typo.err &&
	! grep "prefix" typo.err &&
	grep "warning: jobtap: job-stats: setting .perod. was not used by the plugin (a typo?)" typo-dmesg.out
'
test_expect_success 'settings the plugin reads give no warning' '
	cairn start cairn jobtap load job-stats period=5 prefix=jobs.x 2>read.err &&
	! grep "was not used" read.err
'
test_expect_success 'a relative path is resolved by the command, not the broker' '
	cp $plugins/probe.so ./relative.so &&
	cairn start "cairn jobtap load ./relative.so && cairn jobtap list" >list.out &&
	grep "^relative	$(pwd)/relative.so$" list.out
'
test_expect_success 'plugins are listed in load order and remove all unloads every one' '
	cat >order.sh <<-EOF &&
	cairn jobtap load job-stats &&
	cairn jobtap load $plugins/probe.so &&
	cairn jobtap list >order.out &&
	cairn jobtap remove all &&
	cairn jobtap list >after.out
	EOF
	cairn start sh ./order.sh &&
	cut -f1 order.out >names &&
	printf "job-stats\nprobe\n" >expected &&
	test_cmp expected names &&
	test_must_be_empty after.out
'
test_expect_success 'loading a missing file fails with the reason' '
	test_must_fail cairn start cairn jobtap load /nonexistent/p.so 2>err &&
	grep "cairn: jobtap load /nonexistent/p.so: /nonexistent/p.so: no such file" err
'
test_expect_success 'an unknown bare name fails and says where it looked' '
	test_must_fail cairn start cairn jobtap load no-such-plugin 2>err &&
	grep "no-such-plugin: plugin not found in .*$CAIRN_PLUGIN_PATH" err &&
	grep "CAIRN_PLUGIN_PATH" err
'
test_expect_success 'a plugin that fails to dlopen is refused with the dlerror text' '
	test_must_fail cairn start cairn jobtap load $plugins/unresolved.so 2>err &&
	grep "undefined symbol: cairn_symbol_nobody_defines" err
'
test_expect_success 'a shared object without cairn_plugin_init is refused' '
	test_must_fail cairn start cairn jobtap load $plugins/no-init.so 2>err &&
	grep "not a cairn jobtap plugin: it does not define cairn_plugin_init" err
'
test_expect_success 'a plugin whose init fails is refused with its own log line' '
	cat >init-fails.sh <<-EOF &&
	cairn jobtap load $plugins/probe.so fail=1 2>err
	echo \$? >rc
	cairn jobtap list >list.out
	EOF
	cairn start sh ./init-fails.sh &&
	test "$(cat rc)" = 1 &&
	grep "cairn: jobtap load .*probe.so: probe: initialization failed: refusing to load: fail=1 was given" err &&
	test_must_be_empty list.out
'
test_expect_success 'loading the same plugin twice is refused' '
	test_must_fail cairn start "cairn jobtap load job-stats && cairn jobtap load job-stats" 2>err &&
	grep "job-stats: a plugin of this name is already loaded" err
'
test_expect_success 'removing a plugin that is not loaded fails' '
	test_must_fail cairn start cairn jobtap remove nothing-here 2>err &&
	grep "cairn: jobtap remove nothing-here: nothing-here: no such plugin is loaded" err
'
test_expect_success 'a settings argument without = is refused before contacting the broker' '
	test_must_fail cairn jobtap load job-stats novalue 2>err &&
	grep "cairn: jobtap load: .novalue. is not KEY=VALUE" err
'
test_expect_success 'a failing callback is logged and the job goes on' '
	cat >cbfail.sh <<-EOF &&
	cairn jobtap load $plugins/probe.so cbfail=job.state.run &&
	cairn run sh -c "echo still-ran" &&
	cairn dmesg >dmesg.out
	EOF
	cairn start sh ./cbfail.sh >out &&
	grep still-ran out &&
	grep "jobtap: probe: job.state.run callback failed" dmesg.out
'
test_expect_success 'plugins see every state in order, prev_state absent at first' '
	cat >states.sh <<-EOF &&
	cairn jobtap load $plugins/probe.so "glob=job.state.*" &&
	cairn run true &&
	cairn dmesg >dmesg.out
	EOF
	cairn start sh ./states.sh &&
	sed -n "s/.*jobtap: probe: \(job.state.[a-z]*\) id=1 state=\([A-Z]*\) prev=\([A-Z]*\).*/\1 \2 \3/p" dmesg.out >seen &&
	cat >expected <<-\EOF &&
	job.state.new NEW ENOENT
	job.state.depend DEPEND NEW
	job.state.priority PRIORITY DEPEND
	job.state.sched SCHED PRIORITY
	job.state.run RUN SCHED
	job.state.cleanup CLEANUP RUN
	job.state.inactive INACTIVE CLEANUP
	EOF
	test_cmp expected seen
'
test_expect_success 'job-manager.plugins loads plugins at start' '
	cairn start -o "job-manager.plugins=[\"job-stats\"]" cairn jobtap list >list.out &&
	grep "^job-stats	" list.out
'
test_expect_success 'a plugin in job-manager.plugins that cannot load stops the start' '
	test_must_fail cairn start -o "job-manager.plugins=[\"no-such-plugin\"]" true 2>err &&
	grep "job-manager.plugins: cannot load no-such-plugin" err
'

# An outside plugin, built the way a plugin author builds one: the compiler flags come from
# pkg-config (cairn.pc, with includedir pointing at the source tree's headers).
cat >outside.c <<'EOF'
#include <syslog.h>
#include <cairn/jobtap.h>

static int cb (cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg)
{
    int64_t id = 0;
    (void)arg;
    cairn_plugin_arg_int (args, "id", &id);
    cairn_plugin_log (p, LOG_INFO, "outside saw %s of job %d (greeting=%s)", topic, (int)id,
                      cairn_plugin_conf (p, "greeting"));
    cairn_stats_counter_add (cairn_plugin_stats (p), "outside.events", 1);
    return 0;
}

int cairn_plugin_init (cairn_plugin_t *p)
{
    return cairn_plugin_add_handler (p, "job.state.inactive", cb, NULL);
}
EOF

test_expect_success 'pkg-config gives the flags to build an outside plugin' '
	PKG_CONFIG_PATH=$CAIRN_BUILDDIR/etc pkg-config \
		--define-variable=includedir=$CAIRN_SRCDIR/src/include --cflags cairn >cflags &&
	grep -- "-I$CAIRN_SRCDIR/src/include" cflags &&
	${CC:-cc} $(cat cflags) -Wall -Werror -shared -fPIC outside.c -o outside.so
'
test_expect_success 'the outside plugin loads and sees jobs' '
	cat >outside.sh <<-EOF &&
	cairn jobtap load ./outside.so greeting=hi &&
	cairn run true &&
	cairn dmesg >dmesg.out
	EOF
	cairn start sh ./outside.sh &&
	grep "jobtap: outside: outside saw job.state.inactive of job 1 (greeting=hi)" dmesg.out
'
test_done
