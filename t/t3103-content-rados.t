#!/bin/sh
test_description='content.backing = rados: brokers share blobs through a Ceph RADOS pool

A throwaway cluster (t/lib/ceph.sh: one monitor, one memstore OSD). Round trips of text, binary
and multi-MiB blobs; a corrupted object refused naming it and its pool, listed by cairn content
missing, and replaced by storing the blob again; three brokers on one pool; a broker killed after its flush; the OSD paused
while blobs are written (flush fails after rados.op-timeout, the broker warns, and once the OSD
resumes the retries land); a blob over the largest RADOS write refused unsent; cairn start
refused for an unreachable cluster, a missing pool and an unset rados.pool.'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"
. "$CAIRN_SRCDIR/t/lib/ceph.sh"

if ! cairn start --help-config | grep -q "^rados.pool "; then
	skip_all="cairn was configured --without-rados"
	test_done
fi
ceph_require

# seconds since boot, with a fraction
uptime_s() {
	read -r _up _idle </proc/uptime && echo "$_up"
}
# elapsed START: seconds since START (from uptime_s), as a whole number rounded up
elapsed() {
	awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { d = b - a; print (d == int(d)) ? d : int(d) + 1 }'
}

test_expect_success 'rados.pool unset: cairn start refuses, naming the key' '
	test_must_fail cairn start -o content.backing=rados true 2>err &&
	grep "rados.pool is not set" err
'
test_expect_success 'start a cluster and write the brokers'"'"' config' '
	ceph_start &&
	cat >rados.toml <<-EOF
	[content]
	backing = "rados"
	[rados]
	pool = "$CEPH_POOL"
	conf = "$CEPH_CONF"
	EOF
'
test_expect_success 'set up blobs: text, binary, empty, 5 MiB and 300 small ones' '
	echo "hello from rank 0" >text &&
	head -c 65536 /dev/urandom >binary &&
	: >empty &&
	head -c 5242880 /dev/urandom >big &&
	seq 1 300 | sed "s/^/small blob /" >small
'
test_expect_success 'round trip: stored and flushed by one broker, loaded by a new one' '
	cairn start --config rados.toml --statedir sd-a "
		for f in text binary empty big; do cairn content store <\$f >\$f.ref || exit 1; done &&
		cairn content store --bulk <small >small.refs &&
		cairn content flush" &&
	cairn start --config rados.toml --statedir sd-b "
		for f in text binary empty big; do
			cairn content load \$(cat \$f.ref) >\$f.out || exit 1
		done &&
		cairn content load --bulk <small.refs >small.out &&
		cairn content stats >stats.json" &&
	for f in text binary empty big small; do cmp $f $f.out || return 1; done &&
	test "$(jq ".\"load-misses\"" stats.json)" -ge 304
'
test_expect_success 'each blob is one object in the pool, named by its blobref' '
	ref=$(cat big.ref) &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" get "$ref" big.rados &&
	cmp big big.rados &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" stat "$(cat empty.ref)" >stat.out &&
	grep "size 0$" stat.out
'
test_expect_success 'a blob not in the pool: no such blob' '
	test_must_fail cairn start --config rados.toml \
		"cairn content load sha1-0000000000000000000000000000000000000001" 2>err &&
	grep "no such blob" err
'
test_expect_success 'a corrupt object fails the load naming it, its pool and the repair' '
	ref=$(cat text.ref) &&
	printf "damaged" >damaged &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" put "$ref" damaged &&
	test_must_fail cairn start --config rados.toml "cairn content load $ref" >out 2>err &&
	cat err &&
	test_must_be_empty out &&
	grep "object $ref in RADOS pool $CEPH_POOL" err &&
	grep "store the original data again (cairn content store), then cairn content flush" err
'
test_expect_success 'content missing stats the pool; storing again and flushing repairs it' '
	absent=sha1-0000000000000000000000000000000000000001 &&
	cairn start --config rados.toml "cairn content missing $ref $absent >missing.before &&
		cairn content load $ref >/dev/null 2>&1;
		cairn content missing $ref $absent >missing.after &&
		cairn content store <text >text.again && cairn content flush" &&
	echo "$absent" >expect &&
	test_cmp expect missing.before &&
	printf "%s\n" "$ref" "$absent" >expect &&
	test_cmp expect missing.after &&
	test_cmp text.ref text.again &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" get "$ref" text.rados &&
	cmp text text.rados &&
	cairn start --config rados.toml "cairn content load $ref >text.repaired" &&
	cmp text text.repaired
'
test_expect_success 'rados.namespace keeps blobs apart within one pool' '
	echo "in namespace ns1" >nsblob &&
	cairn start --config rados.toml -o rados.namespace=ns1 \
		"cairn content store <nsblob >ns.ref && cairn content flush" &&
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N ns1 ls >ns1.ls &&
	grep -x "$(cat ns.ref)" ns1.ls &&
	test_must_fail cairn start --config rados.toml "cairn content load $(cat ns.ref)" &&
	cairn start --config rados.toml -o rados.namespace=ns1 \
		"cairn content load $(cat ns.ref) >ns.out" &&
	test_cmp nsblob ns.out
'
test_expect_success 'a blob over the largest RADOS write (CEPH_ARGS lowers it): flush fails, EFBIG' '
	head -c 5242880 /dev/urandom >five-mib &&
	test_expect_code 74 env CEPH_ARGS="--osd_max_write_size=4" \
		cairn start --config rados.toml --statedir sd-big "
		cairn content store <five-mib >five-mib.ref &&
		! cairn content flush 2>flush.err &&
		cairn dmesg >big-dmesg.out" 2>big.err &&
	grep "backing store write failed: rados: cannot write object $(cat five-mib.ref) in RADOS pool $CEPH_POOL: File too large (larger than the largest RADOS write, osd_max_write_size: 4194304 bytes)" flush.err &&
	grep "larger than the largest RADOS write (osd_max_write_size, 4194304 bytes)" big-dmesg.out &&
	test_must_fail rados -c "$CEPH_CONF" -p "$CEPH_POOL" stat "$(cat five-mib.ref)"
'
test_expect_success 'that blob is lost at shutdown: cairn start said so and exited 74' '
	grep "^cairn: start: data lost: content: 1 blob(s) that clients had stored were not written to the rados backing store (File too large)" big.err &&
	test "$(tail -n 1 big.err)" = "cairn: start: exit status 74 (data lost)"
'
test_expect_success 'three brokers on one pool, each with its own rank and statedir' '
	broker_start r0 --config rados.toml --rank 0 --statedir sd0 &&
	broker_start r1 --config rados.toml --rank 1 --statedir sd1 &&
	broker_start r2 --config rados.toml --rank 2 --statedir sd2
'
test_expect_success 'rank 0 stores and flushes; ranks 1 and 2 load every blob byte for byte' '
	seq 1 500 | sed "s/^/shared blob /" >shared &&
	head -c 3000000 /dev/urandom >shared.bin &&
	on r0 cairn content store --bulk <shared >shared.refs &&
	on r0 cairn content store <shared.bin >shared.bin.ref &&
	on r0 cairn content flush &&
	for r in r1 r2; do
		on $r cairn content load --bulk <shared.refs >shared.$r &&
		test_cmp shared shared.$r &&
		on $r cairn content load $(cat shared.bin.ref) >shared.bin.$r &&
		cmp shared.bin shared.bin.$r || return 1
	done
'
test_expect_success 'kill -9 of the storing broker after its flush: another broker loads it all' '
	seq 1 400 | sed "s/^/killed blob /" >killed &&
	on r0 cairn content store --bulk <killed >killed.refs &&
	on r0 cairn content flush &&
	broker_signal r0 KILL &&
	broker_wait r0 &&
	echo 137 >expect &&
	test_cmp expect r0.status &&
	on r2 cairn content load --bulk <killed.refs >killed.r2 &&
	test_cmp killed killed.r2 &&
	cairn start --config rados.toml --statedir sd-after "cairn content load --bulk <killed.refs >killed.new" &&
	test_cmp killed killed.new
'
test_expect_success 'ranks 1 and 2 stop cleanly' '
	broker_signal r1 TERM &&
	broker_signal r2 TERM &&
	broker_wait r1 &&
	broker_wait r2 &&
	echo 0 >expect &&
	test_cmp expect r1.status &&
	test_cmp expect r2.status
'
test_expect_success 'two brokers: p with rados.op-timeout = 2 s, q with a 1 MiB librados budget' '
	broker_start p --config rados.toml --statedir sd-p -o rados.op-timeout=2 \
		-o heartbeat.period=0.5 &&
	BROKER_PREFIX="env CEPH_ARGS=--objecter_inflight_op_bytes=1048576" \
		broker_start q --config rados.toml --statedir sd-q -o rados.op-timeout=60
'
test_expect_success 'with the OSD paused, stores still succeed: they need only memory' '
	seq 1 200 | sed "s/^/paused blob /" >paused &&
	ceph_pause_osd &&
	on p cairn content store --bulk <paused >paused.refs &&
	test $(wc -l <paused.refs) -eq 200
'
# librados blocks an aio call past its in-flight budget (objecter_inflight_op_bytes) until
# earlier operations end: here not before the OSD resumes or rados.op-timeout (60 s) passes.
test_expect_success 'writes past librados'"'"' budget wait in the broker; it keeps answering' '
	head -c 3000000 /dev/urandom | base64 -w 524288 | head -n 8 >q-blobs &&
	test $(wc -l <q-blobs) -eq 8 &&
	on q timeout 10 cairn content store --bulk <q-blobs >q.refs &&
	on q timeout 10 cairn content stats >q-stats.json &&
	test "$(jq .dirty q-stats.json)" -eq 8
'
test_expect_success 'flush fails after rados.op-timeout with ETIMEDOUT, and says the blobs are kept' '
	start=$(uptime_s) &&
	test_must_fail on p cairn content flush 2>err &&
	took=$(elapsed $start) &&
	echo "flush failed after about $took s" &&
	test "$took" -ge 1 && test "$took" -le 15 &&
	grep "backing store write failed: rados: cannot write object sha1-.* in RADOS pool .*: Connection timed out (no answer within rados.op-timeout)" err &&
	grep "the blobs stay in memory" err
'
test_expect_success 'the broker warns in cairn dmesg' '
	wait_for 20 broker_dmesg_has p "backing store write(s) failed: Connection timed out" &&
	on p cairn content stats >stats.json &&
	test "$(jq .dirty stats.json)" -gt 0 &&
	test "$(jq ".\"backing-failure-errno\"" stats.json)" -eq 110
'
test_expect_success 'the OSD resumes: flush succeeds, nothing is dirty, the recovery is logged' '
	ceph_resume_osd &&
	on p cairn content flush &&
	on p cairn content stats >stats.json &&
	test "$(jq .dirty stats.json)" -eq 0 &&
	wait_for 20 broker_dmesg_has p "backing store writes succeed again" &&
	on q cairn content flush
'
test_expect_success 'nothing was lost: a new broker loads every blob written during the outage' '
	broker_signal p KILL &&
	broker_signal q KILL &&
	broker_wait p &&
	broker_wait q &&
	cairn start --config rados.toml --statedir sd-p2 "
		cairn content load --bulk <paused.refs >paused.out &&
		cairn content load --bulk <q.refs >q.out" &&
	test_cmp paused paused.out &&
	test_cmp q-blobs q.out
'
test_expect_success 'an unreachable cluster fails cairn start within rados.connect-timeout, naming the config' '
	port=$(/usr/bin/python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	cat >dead.conf <<-EOF &&
	[global]
	mon_host = v2:127.0.0.1:$port
	auth_cluster_required = none
	auth_service_required = none
	auth_client_required = none
	keyring = /dev/null
	EOF
	start=$(uptime_s) &&
	test_must_fail cairn start --config rados.toml -o rados.conf="$PWD/dead.conf" \
		-o rados.connect-timeout=2 true 2>err &&
	took=$(elapsed $start) &&
	echo "cairn start failed after about $took s" &&
	test "$took" -le 8 &&
	grep "cannot connect to the Ceph cluster of $PWD/dead.conf" err &&
	grep "Connection timed out" err
'
test_expect_success 'a missing pool fails cairn start, naming the pool' '
	test_must_fail cairn start --config rados.toml -o rados.pool=no-such-pool true 2>err &&
	grep "pool no-such-pool (rados.pool) does not exist" err
'
test_expect_success 'ceph_stop' '
	ceph_stop
'
test_done
