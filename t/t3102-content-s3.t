#!/bin/sh
test_description='content.backing = s3: brokers share one bucket on a real radosgw

A throwaway Ceph cluster with radosgw (t/lib/ceph.sh) serves one bucket. One broker round-trips
blobs through it; three brokers (own --rank and --statedir) share it: stored and flushed on
one, loaded byte for byte on the others, also after the storing broker is killed. While
radosgw is paused, stores succeed and flush fails after s3.timeout; once it resumes the
retries succeed and the log says so. A corrupted object is refused naming its key, listed by
cairn content missing (which HEADs the bucket), and replaced by storing the blob again. A
wrong endpoint, bucket or key stops cairn start naming
the endpoint; the secret key appears nowhere.'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"
. "$CAIRN_SRCDIR/t/lib/ceph.sh"

if ! cairn start --help-config | grep -q "^s3.endpoint "; then
	skip_all="cairn was built without the s3 backing store (configure --without-s3)"
	test_done
fi
ceph_require --rgw

# s3_start NAME RANK [START-ARGS...]: a broker of that rank on the bucket, in the background.
# s3.timeout is short so that an outage shows within the test's patience.
s3_start() {
	_ss_name=$1; _ss_rank=$2; shift 2
	broker_start "$_ss_name" --rank "$_ss_rank" --statedir "sd$_ss_rank" \
		-o content.backing=s3 -o s3.endpoint="$S3_ENDPOINT" -o s3.bucket="$S3_BUCKET" \
		-o s3.credentials="$S3_CREDENTIALS" -o s3.timeout=2 -o heartbeat.period=0.2 "$@"
}
# s3_run [START-ARGS...] -- COMMAND: cairn start with a command, on the bucket.
s3_run() {
	cairn start -o content.backing=s3 -o s3.endpoint="$S3_ENDPOINT" -o s3.bucket="$S3_BUCKET" \
		-o s3.credentials="$S3_CREDENTIALS" "$@"
}

test_expect_success 'start a Ceph cluster with radosgw, an S3 user and a bucket' '
	ceph_start --rgw &&
	sed -n "s/^secret_key=//p" "$S3_CREDENTIALS" >secret &&
	test -s secret
'
test_expect_success 'set up 200 text blobs and a binary blob with NUL bytes' '
	seq 1 200 | sed "s/^/s3 blob /" >blobs &&
	seq 1 50 | sed "s/^/killed blob /" >blobs-killed &&
	seq 1 50 | sed "s/^/outage blob /" >blobs-outage &&
	{ printf "\000\001binary\000"; head -c 300000 /dev/urandom; printf "\000"; } >binary
'
test_expect_success 'one broker: store, flush, drop the cache, load back from S3' '
	s3_run "cairn content store <binary >binary.ref && cairn content flush &&
		cairn content dropcache && cairn content load \$(cat binary.ref) >binary.out &&
		cairn content stats >stats.json" &&
	cmp binary binary.out &&
	test "$(jq ".\"load-misses\"" stats.json)" -eq 1
'
test_expect_success 'the blob is one object named by its blobref' '
	rgw_s3 get "$S3_BUCKET/$(cat binary.ref)" filename=object &&
	cmp binary object
'
test_expect_success 'a corrupt object fails the load naming its key and bucket, and the repair' '
	ref=$(cat binary.ref) &&
	printf "damaged" >damaged &&
	rgw_s3 put "$S3_BUCKET/$ref" filename=damaged &&
	test_must_fail s3_run "cairn content load $ref" >out 2>err &&
	cat err &&
	test_must_be_empty out &&
	grep "S3 object $ref in bucket $S3_BUCKET at $S3_ENDPOINT" err &&
	grep "store the original data again (cairn content store), then cairn content flush" err
'
test_expect_success 'content missing HEADs the bucket; storing again and flushing repairs it' '
	absent=sha1-0000000000000000000000000000000000000001 &&
	s3_run "cairn content missing $ref $absent >missing.before &&
		cairn content load $ref >/dev/null 2>&1;
		cairn content missing $ref $absent >missing.after &&
		cairn content store <binary >binary.again && cairn content flush" &&
	echo "$absent" >expect &&
	test_cmp expect missing.before &&
	printf "%s\n" "$ref" "$absent" >expect &&
	test_cmp expect missing.after &&
	test_cmp binary.ref binary.again &&
	rgw_s3 get "$S3_BUCKET/$ref" filename=repaired &&
	cmp binary repaired &&
	s3_run "cairn content load $ref >binary.repaired" &&
	cmp binary binary.repaired
'
test_expect_success 'three brokers start on ranks 0, 1 and 2 on the same bucket' '
	s3_start r0 0 &&
	s3_start r1 1 &&
	s3_start r2 2
'
test_expect_success 'rank 0 stores and flushes; ranks 1 and 2 load every blob byte for byte' '
	on r0 cairn content store --bulk <blobs >refs &&
	on r0 cairn content flush &&
	on r1 cairn content load --bulk <refs >out1 &&
	test_cmp blobs out1 &&
	on r2 cairn content load --bulk <refs >out2 &&
	test_cmp blobs out2 &&
	on r1 cairn content load "$(cat binary.ref)" >binary1 &&
	cmp binary binary1
'
test_expect_success 'a blob no broker stored is ENOENT: no such blob' '
	test_must_fail on r1 cairn content load sha1-0123456789abcdef0123456789abcdef01234567 \
		2>err &&
	grep "no such blob" err
'
test_expect_success 'rank 0 stores more, flushes and is killed; rank 2 loads it all' '
	on r0 cairn content store --bulk <blobs-killed >refs-killed &&
	on r0 cairn content flush &&
	broker_signal r0 KILL &&
	broker_wait r0 &&
	on r2 cairn content load --bulk <refs-killed >out-killed &&
	test_cmp blobs-killed out-killed
'
test_expect_success 'radosgw paused: stores succeed, flush fails after s3.timeout' '
	rgw_pause &&
	on r1 cairn content store --bulk <blobs-outage >refs-outage &&
	test $(wc -l <refs-outage) -eq 50 &&
	test_must_fail on r1 cairn content flush 2>err &&
	cat err &&
	grep "backing store write failed: s3 put sha1-.* (.*, bucket .*): no progress for 2 s (s3.timeout): Connection timed out" err &&
	wait_for 20 grep -q "content.backing=s3: s3 put sha1-.* no progress for 2 s (s3.timeout)" r1.err &&
	wait_for 20 grep -q "backing store write(s) failed" r1.err &&
	on r1 cairn content stats >stats.json &&
	test "$(jq .dirty stats.json)" -gt 0
'
test_expect_success 'radosgw resumed: the retries succeed and the log says so' '
	rgw_resume &&
	wait_for 60 broker_dmesg_has r1 "writes succeed again" &&
	on r1 cairn content flush &&
	on r1 cairn content stats >stats.json &&
	test "$(jq .dirty stats.json)" -eq 0 &&
	on r2 cairn content load --bulk <refs-outage >out-outage &&
	test_cmp blobs-outage out-outage
'
test_expect_success 'radosgw stopped: flush fails with Connection refused; started again, it recovers' '
	rgw_stop &&
	on r2 cairn content store --bulk <blobs-outage >/dev/null &&
	printf "refused blob\n" | on r2 cairn content store >refused.ref &&
	test_must_fail on r2 cairn content flush 2>err &&
	grep "backing store write failed: s3 put sha1-.*: FailedToConnect (Connection refused)" err &&
	rgw_start &&
	on r2 cairn content flush &&
	on r1 cairn content load "$(cat refused.ref)" >refused.out &&
	echo "refused blob" >expect &&
	test_cmp expect refused.out
'
test_expect_success 'the brokers collect their logs and exit cleanly' '
	on r1 cairn dmesg >dmesg1 &&
	on r2 cairn dmesg >dmesg2 &&
	broker_signal r1 TERM &&
	broker_signal r2 TERM &&
	broker_wait r1 &&
	broker_wait r2 &&
	echo 0 >expect &&
	test_cmp expect r1.status &&
	test_cmp expect r2.status
'
test_expect_success 'a wrong endpoint stops cairn start, naming the endpoint and the reason' '
	test_must_fail cairn start -o content.backing=s3 -o s3.endpoint=127.0.0.1:1 \
		-o s3.bucket="$S3_BUCKET" -o s3.credentials="$S3_CREDENTIALS" true 2>err-endpoint &&
	grep "s3.endpoint 127.0.0.1:1 (http): cannot use bucket $S3_BUCKET: FailedToConnect (Connection refused)" \
		err-endpoint
'
test_expect_success 'a wrong access key or secret key stops cairn start, naming the endpoint' '
	printf "access_key=NOSUCHKEY\nsecret_key=%s\n" "$(cat secret)" >wrong-access &&
	test_must_fail s3_run -o s3.credentials="$PWD/wrong-access" true 2>err-access &&
	grep "s3.endpoint $S3_ENDPOINT (http): cannot use bucket $S3_BUCKET: .*(Permission denied).*s3.credentials" \
		err-access &&
	sed "s/^secret_key=.*/secret_key=wrong-secret/" "$S3_CREDENTIALS" >wrong-secret &&
	test_must_fail s3_run -o s3.credentials="$PWD/wrong-secret" true 2>err-secret &&
	grep "s3.endpoint $S3_ENDPOINT (http): cannot use bucket $S3_BUCKET: .*(Permission denied)" \
		err-secret
'
test_expect_success 'a missing bucket or an incomplete credentials file stops cairn start' '
	test_must_fail s3_run -o s3.bucket=no-such-bucket true 2>err-bucket &&
	grep "cannot use bucket no-such-bucket: ErrorNoSuchBucket" err-bucket &&
	grep -v "^access_key" "$S3_CREDENTIALS" >no-access &&
	test_must_fail s3_run -o s3.credentials="$PWD/no-access" true 2>err-incomplete &&
	grep "s3.credentials $PWD/no-access: no access_key=... line" err-incomplete
'
test_expect_success 'the secret key appears in no log, no dmesg and no error message' '
	test -s dmesg1 && test -s dmesg2 &&
	! grep -F -f secret r0.err r1.err r2.err dmesg1 dmesg2 err err-endpoint err-access \
		err-secret err-bucket err-incomplete
'
test_done
