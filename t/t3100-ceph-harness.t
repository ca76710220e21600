#!/bin/sh
test_description='t/lib/ceph.sh: the throwaway Ceph cluster that the RADOS and S3 tests use

Starts a monitor, a memstore OSD and radosgw; stores and loads an object through librados (the
rados tool) and through S3 (libs3'"'"'s s3 tool); pauses and resumes the OSD and radosgw; stops
radosgw and starts it again; stops everything and checks that none of its processes remain,
also after a test script that started a cluster fails.'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/ceph.sh"

ceph_require --rgw

# proc_name PID: the process's name, or nothing once it is gone (or a zombie).
proc_name() {
	_ceph_alive "$1" && cat "/proc/$1/comm"
}

test_expect_success 'ceph_start --rgw starts a monitor, an OSD and radosgw' '
	ceph_start --rgw &&
	ceph_pids >pids &&
	for p in $(cat pids); do proc_name $p || return 1; done | sort >names &&
	printf "%s\n" ceph-mon ceph-osd radosgw >expect &&
	test_cmp expect names
'
test_expect_success 'it exports CEPH_CONF, CEPH_POOL, S3_ENDPOINT, S3_BUCKET, S3_CREDENTIALS' '
	grep "^mon_host = v2:127.0.0.1:[0-9][0-9]*$" "$CEPH_CONF" &&
	test -n "$CEPH_POOL" &&
	test -n "$S3_BUCKET" &&
	expr "$S3_ENDPOINT" : "127\.0\.0\.1:[0-9][0-9]*$" &&
	test $(wc -l <"$S3_CREDENTIALS") = 2 &&
	grep "^access_key=[A-Z0-9]\{20\}$" "$S3_CREDENTIALS" &&
	grep "^secret_key=[A-Za-z0-9]\{40\}$" "$S3_CREDENTIALS"
'
test_expect_success 'the rados tool writes an object to CEPH_POOL and reads it back' '
	head -c 300000 /dev/urandom >blob &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" put obj blob &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" get obj obj.out &&
	cmp blob obj.out
'
test_expect_success 'the s3 tool puts an object into S3_BUCKET and gets it back' '
	access=$(sed -n "s/^access_key=//p" "$S3_CREDENTIALS") &&
	secret=$(sed -n "s/^secret_key=//p" "$S3_CREDENTIALS") &&
	S3_ACCESS_KEY_ID=$access S3_SECRET_ACCESS_KEY=$secret S3_HOSTNAME=$S3_ENDPOINT \
		s3 -u put "$S3_BUCKET/key" filename=blob >/dev/null 2>err &&
	test_must_be_empty err &&
	rgw_s3 get "$S3_BUCKET/key" filename=key.out &&
	cmp blob key.out &&
	rgw_s3 list "$S3_BUCKET" >list &&
	grep "^key " list
'
test_expect_success 'rgw_s3 fails when the request does (s3 itself exits 0)' '
	test_must_fail rgw_s3 -r 0 get "$S3_BUCKET/no-such-key" filename=none 2>err &&
	grep "^ERROR: " err
'
test_expect_success 'while the OSD is paused, reads time out; once resumed, the data is there' '
	ceph_pause_osd &&
	test_must_fail rados -c "$CEPH_CONF" --rados-osd-op-timeout=1 -p "$CEPH_POOL" \
		get obj paused.out 2>err &&
	grep "timed out" err &&
	ceph_resume_osd &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" get obj resumed.out &&
	cmp blob resumed.out &&
	rgw_s3 get "$S3_BUCKET/key" filename=key.resumed &&
	cmp blob key.resumed
'
test_expect_success 'while radosgw is paused, S3 requests get no answer; once resumed, they do' '
	rgw_pause &&
	test_expect_code 124 timeout 0.5 sh -c ". \"\$1\" && rgw_s3 -r 0 get \"\$S3_BUCKET/key\" \
		filename=key.paused" - "$CAIRN_SRCDIR/t/lib/ceph.sh" &&
	rgw_resume &&
	rgw_s3 get "$S3_BUCKET/key" filename=key.unpaused &&
	cmp blob key.unpaused
'
test_expect_success 'radosgw stopped refuses connections; started again, it serves the data' '
	rgw_stop &&
	test_must_fail rgw_s3 -r 0 get "$S3_BUCKET/key" filename=key.stopped 2>err &&
	grep "^ERROR: FailedToConnect" err &&
	rgw_start &&
	rgw_s3 get "$S3_BUCKET/key" filename=key.restarted &&
	cmp blob key.restarted
'
test_expect_success 'ceph_stop stops every daemon, and may be called again' '
	ceph_pids >pids &&
	test $(wc -l <pids) = 3 &&
	ceph_stop &&
	ceph_stop &&
	ceph_pids >left &&
	test_must_be_empty left &&
	for p in $(cat pids); do test -z "$(proc_name $p)" || return 1; done
'
test_expect_success 'a test script that fails leaves no daemon of its cluster behind' '
	cat >fails.t <<-EOF &&
	#!/bin/sh
	test_description="starts a cluster, then fails"
	. "$CAIRN_SRCDIR/t/lib/sharness-cairn.sh"
	. "$CAIRN_SRCDIR/t/lib/ceph.sh"
	test_expect_success "start" "ceph_start && echo \\\$CEPH_DIR >\"$PWD/inner-dir\""
	test_expect_success "fail" "false"
	test_done
	EOF
	test_expect_code 1 env SHARNESS_TEST_DIRECTORY="$PWD" sh fails.t >fails.out 2>&1 &&
	grep "^ok 1 - start" fails.out &&
	grep "^not ok 2 - fail" fails.out &&
	inner=$(cat inner-dir) &&
	test -f "$inner/mon.a.log" &&
	test -z "$(CEPH_DIR=$inner ceph_pids)"
'
# t/perf/with-ceph.sh --cpus: the cluster on one CPU list, the command on another (both CPU 0
# here, which every machine has). The command lists its own CPUs and those of the daemons, which
# run with -c $CEPH_CONF; its exit status is with-ceph.sh's.
test_expect_success 'with-ceph.sh --cpus runs the cluster and the command on the CPUs given' '
	cat >affinity.sh <<-\EOF &&
	taskset -pc $$ | sed "s/.*: /command /"
	for p in $(pgrep -f -- "-c $CEPH_CONF"); do
		echo "$(cat /proc/$p/comm) $(taskset -pc $p | sed "s/.*: //")"
	done | sort -u
	exit 3
	EOF
	test_expect_code 3 "$CAIRN_SRCDIR/t/perf/with-ceph.sh" --cpus 0:0 sh affinity.sh >out &&
	printf "%s\n" "command 0" "ceph-mon 0" "ceph-osd 0" >expect &&
	test_cmp expect out
'
test_expect_success 'with-ceph.sh refuses a --cpus that is not CLUSTER:COMMAND, or names no CPU it can use' '
	test_expect_code 2 "$CAIRN_SRCDIR/t/perf/with-ceph.sh" --cpus 1 true 2>err &&
	grep "with-ceph.sh: --cpus wants CLUSTER:COMMAND, two CPU lists such as 1:0 (got 1)" err &&
	test_expect_code 2 "$CAIRN_SRCDIR/t/perf/with-ceph.sh" --cpus 2>err &&
	grep "^usage: with-ceph.sh" err &&
	test_expect_code 2 "$CAIRN_SRCDIR/t/perf/with-ceph.sh" --cpus 4096:0 true 2>err &&
	grep "^taskset: failed to set pid [0-9]*.s affinity" err
'
test_done
