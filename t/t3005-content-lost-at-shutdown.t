#!/bin/sh
test_description='content: blobs the shutdown flush cannot write make cairn start exit non-zero

The broker runs with a soft file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so SQLite writes
past 64 KiB really fail (EFBIG, an I/O error to SQLite), as on a full disk. Blobs it accepted
and cannot write when it shuts down are lost: cairn start says so on stderr (how many, where
to, why, what to do) and exits 74, unless the initial program exited non-zero, whose status
then wins. A files.dir removed under a running broker loses blobs the same way.'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

# small_files CMD...: CMD with files limited to 64 KiB and SIGXFSZ ignored.
small_files() {
	( trap "" XFSZ; exec prlimit --fsize=65536: "$@" )
}

test_expect_success 'set up 300 blobs of 1 KiB, one per line' '
	for i in $(seq 1 300); do
		printf "%04d" "$i"; head -c 1020 /dev/zero | tr "\\0" x; echo
	done >blobs &&
	test $(wc -l <blobs) -eq 300
'
test_expect_success 'an initial program whose blobs cannot be written: status 74' '
	test_expect_code 74 small_files cairn start --statedir sd1 \
		"cairn content store --bulk <blobs >refs" 2>err &&
	cat err &&
	test $(wc -l <refs) -eq 300
'
test_expect_success 'stderr says how many blobs were lost, where, why, what to do; last the status' '
	grep "cairn-broker: content: [0-9]* blobs could not be written to the sqlite backing store at shutdown: Input/output error" err &&
	grep "^cairn: start: data lost: content: [0-9]* blob(s) that clients had stored were not written to the sqlite backing store (Input/output error) and are lost: fix the backing store" err &&
	grep "store those blobs again" err &&
	test "$(tail -n 1 err)" = "cairn: start: exit status 74 (data lost)"
'
test_expect_success 'a non-zero status of the initial program wins; the loss is still reported' '
	test_expect_code 3 small_files cairn start --statedir sd2 \
		"cairn content store --bulk <blobs >/dev/null; exit 3" 2>err &&
	grep "^cairn: start: data lost: content: [0-9]* blob(s)" err &&
	grep "^cairn: start: exit status 3 (the initial program.s)$" err
'
test_expect_success 'without a command, SIGTERM with blobs that cannot be written: status 74' '
	trap "" XFSZ &&
	BROKER_PREFIX="prlimit --fsize=65536:" broker_start b --statedir sd3 &&
	trap - XFSZ &&
	CAIRN_URI=$(broker_uri b) cairn content store --bulk <blobs >refs3 &&
	broker_signal b TERM &&
	broker_wait b &&
	echo 74 >expect &&
	test_cmp expect b.status &&
	grep "^cairn: start: data lost: content: [0-9]* blob(s)" b.err
'
test_expect_success 'the same blobs with room to write them: status 0 and no loss reported' '
	cairn start --statedir sd4 "cairn content store --bulk <blobs >refs4" 2>err &&
	! grep "data lost" err &&
	cairn start --statedir sd4 "cairn content load --bulk <refs4 >out4" &&
	test_cmp blobs out4
'
test_expect_success 'a files.dir removed under the broker: status 74, naming files and ENOENT' '
	mkdir blobdir &&
	test_expect_code 74 cairn start -o content.backing=files -o files.dir="$PWD/blobdir" \
		"rm -r blobdir && cairn content store <blobs >ref" 2>err &&
	grep "^cairn: start: data lost: content: 1 blob(s) that clients had stored were not written to the files backing store (No such file or directory)" err
'
test_done
