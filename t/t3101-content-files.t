#!/bin/sh
test_description='content.backing = files: three brokers share one files.dir

Three brokers, each with its own --rank and --statedir, share one files.dir. Blobs stored and
flushed on one load byte for byte on the others, also after the storing broker is killed with
SIGKILL. A file corrupted in files.dir fails its load naming the path and the repair, and
storing the blob again and flushing replaces it. A files.dir that turns read-only (a read-only bind mount, or chattr +i, as root;
chmod otherwise) makes flush fail with the reason while stores still succeed; once writable
again the flush succeeds and every blob is there. A missing files.dir stops cairn start.'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

SHARED=$PWD/shared  # the trash directory's name has a space: always quote it

# files_start NAME RANK: a broker of that rank on files.dir, in the background.
files_start() {
	broker_start "$1" --rank "$2" --statedir "sd$2" -o content.backing=files \
		-o files.dir="$SHARED" -o heartbeat.period=0.2
}

# A read-only mount is undone when the script ends (after broker.sh has killed the brokers
# still running), else the trash directory could not be removed.
cleanup "make_writable; true"

# make_readonly: files.dir refuses new files from now on, even to root. Sets READONLY_HOW.
make_readonly() {
	READONLY_HOW=
	if test "$(id -u)" != 0; then
		find "$SHARED" -type d -exec chmod a-w {} + && READONLY_HOW=chmod
	elif mount --bind "$SHARED" "$SHARED" 2>/dev/null; then
		if mount -o remount,bind,ro "$SHARED" 2>/dev/null; then
			READONLY_HOW=mount
		else
			umount "$SHARED"
		fi
	fi
	if test -z "$READONLY_HOW" && test "$(id -u)" = 0 &&
		find "$SHARED" -type d -exec chattr +i {} + 2>/dev/null; then
		READONLY_HOW=chattr
	fi
	test -n "$READONLY_HOW" && ! touch "$SHARED/probe" 2>/dev/null
}
make_writable() {
	case "$READONLY_HOW" in
	chmod) find "$SHARED" -type d -exec chmod u+w {} + ;;
	mount) umount "$SHARED" ;;
	chattr) find "$SHARED" -type d -exec chattr -i {} + ;;
	esac
	READONLY_HOW=
}

test_expect_success 'set up 300 text blobs, a binary blob with NUL bytes, and files.dir' '
	seq 1 300 | sed "s/^/shared blob /" >blobs &&
	seq 1 100 | sed "s/^/killed blob /" >blobs-killed &&
	seq 1 100 | sed "s/^/read-only blob /" >blobs-ro &&
	{ printf "\000\001binary\000"; head -c 200000 /dev/urandom; printf "\000"; } >binary &&
	mkdir "$SHARED"
'
test_expect_success 'three brokers start on ranks 0, 1 and 2 with the same files.dir' '
	files_start r0 0 &&
	files_start r1 1 &&
	files_start r2 2
'
test_expect_success 'rank 0 stores the blobs and flushes them' '
	on r0 cairn content store --bulk <blobs >refs &&
	on r0 cairn content store <binary >binary.ref &&
	on r0 cairn content flush &&
	test $(wc -l <refs) -eq 300
'
test_expect_success 'files.dir holds one file per blob, named by its blobref, and no temporary' '
	(cd "$SHARED" && find . -type f) | sort >files &&
	{ cat refs binary.ref; } | sed "s|^\(sha1-\(..\).*\)|./sha1/\2/\1|" | sort >expect &&
	test_cmp expect files
'
test_expect_success 'ranks 1 and 2 load every blob byte for byte' '
	on r1 cairn content load --bulk <refs >out1 &&
	test_cmp blobs out1 &&
	on r2 cairn content load --bulk <refs >out2 &&
	test_cmp blobs out2 &&
	on r1 cairn content load "$(cat binary.ref)" >binary1 &&
	cmp binary binary1 &&
	on r2 cairn content load "$(cat binary.ref)" >binary2 &&
	cmp binary binary2 &&
	on r2 cairn content stats >stats2.json &&
	test "$(jq ".\"load-misses\"" stats2.json)" -ge 301
'
test_expect_success 'a blob no broker stored is ENOENT: no such blob' '
	test_must_fail on r2 cairn content load sha1-0123456789abcdef0123456789abcdef01234567 \
		2>err &&
	grep "no such blob" err
'
test_expect_success 'rank 0 stores more, flushes and is killed with SIGKILL' '
	on r0 cairn content store --bulk <blobs-killed >refs-killed &&
	on r0 cairn content flush &&
	broker_signal r0 KILL &&
	broker_wait r0 &&
	echo 137 >expect &&
	test_cmp expect r0.status
'
test_expect_success 'rank 2 loads everything rank 0 flushed before it died' '
	on r2 cairn content load --bulk <refs-killed >out-killed &&
	test_cmp blobs-killed out-killed
'
test_expect_success 'files.dir is made read-only (read-only bind mount, chattr +i, or chmod)' '
	if make_readonly; then
		echo "files.dir is read-only ($READONLY_HOW)" &&
		test_set_prereq READONLY
	else
		make_writable
		echo "cannot make files.dir read-only here (as root: no mount --bind, no chattr +i):" \
			"the read-only tests are skipped" >&2
	fi
'
test_expect_success READONLY 'stores succeed on a read-only files.dir; flush fails with the reason' '
	on r1 cairn content store --bulk <blobs-ro >refs-ro &&
	test $(wc -l <refs-ro) -eq 100 &&
	test_must_fail on r1 cairn content flush 2>err &&
	cat err &&
	grep "backing store write failed: cannot create $SHARED/.*: \(Read-only file system\|Operation not permitted\|Permission denied\)" err &&
	grep "the blobs stay in memory" err
'
test_expect_success READONLY 'the broker logs the path and the reason' '
	wait_for 20 grep -q "content.backing=files: cannot create $SHARED/" r1.err &&
	wait_for 20 grep -q "backing store write(s) failed" r1.err &&
	on r1 cairn dmesg >dmesg.out &&
	grep "content.backing=files: cannot create $SHARED/" dmesg.out &&
	grep "backing store write(s) failed" dmesg.out &&
	on r1 cairn content stats >stats.json &&
	test "$(jq .dirty stats.json)" -eq 100
'
test_expect_success READONLY 'writable again: the flush succeeds and the log says so' '
	make_writable &&
	on r1 cairn content flush &&
	on r1 cairn content stats >stats.json &&
	test "$(jq .dirty stats.json)" -eq 0 &&
	wait_for 20 broker_dmesg_has r1 "writes succeed again"
'
test_expect_success READONLY 'nothing was lost: rank 2 loads every blob stored meanwhile' '
	on r2 cairn content load --bulk <refs-ro >out-ro &&
	test_cmp blobs-ro out-ro &&
	test -z "$(find "$SHARED" -name ".tmp.*")"
'
test_expect_success 'a corrupt file fails the load naming its path and the repair' '
	ref=$(sed -n 5p refs) &&
	path="$SHARED/sha1/$(echo "$ref" | cut -c6-7)/$ref" &&
	sed -n 5p blobs | tr -d "\n" >blob5 &&
	test "$(cat blob5)" = "shared blob 5" &&
	printf "shared blob X" >"$path" &&
	on r2 cairn content dropcache &&
	test_must_fail on r2 cairn content load "$ref" >out 2>err &&
	cat err &&
	test_must_be_empty out &&
	grep "file $path" err &&
	grep "is corrupt" err &&
	grep "store the original data again (cairn content store), then cairn content flush" err &&
	on r2 cairn content missing "$ref" >missing &&
	echo "$ref" >expect &&
	test_cmp expect missing
'
test_expect_success 'storing it again and flushing replaces the file; the load succeeds' '
	on r2 cairn content store <blob5 >ref5 &&
	echo "$ref" >expect &&
	test_cmp expect ref5 &&
	on r2 cairn content flush &&
	printf "shared blob 5" >expect5 &&
	test_cmp expect5 "$path" &&
	on r2 cairn content dropcache &&
	on r2 cairn content load "$ref" >out &&
	test_cmp blob5 out &&
	on r1 cairn content dropcache &&
	on r1 cairn content load "$ref" >out1 &&
	test_cmp blob5 out1 &&
	on r2 cairn content missing "$ref" >missing &&
	test_must_be_empty missing &&
	test -z "$(find "$SHARED" -name ".tmp.*")"
'
test_expect_success 'the other brokers exit cleanly' '
	broker_signal r1 TERM &&
	broker_signal r2 TERM &&
	broker_wait r1 &&
	broker_wait r2 &&
	echo 0 >expect &&
	test_cmp expect r1.status &&
	test_cmp expect r2.status
'
test_expect_success 'a new broker on a fresh statedir loads every blob from files.dir' '
	cat refs refs-killed >all-refs &&
	cat blobs blobs-killed >all-blobs &&
	cairn start --rank 3 --statedir sd3 -o content.backing=files -o files.dir="$SHARED" \
		"cairn content load --bulk <all-refs >all-out" &&
	test_cmp all-blobs all-out
'
test_expect_success 'a missing, unset or unusable files.dir stops cairn start naming the key' '
	test_must_fail cairn start -o content.backing=files -o files.dir="$PWD/nope" true 2>err &&
	grep "files.dir $PWD/nope: No such file or directory" err &&
	test_must_fail cairn start -o content.backing=files true 2>err &&
	grep "files.dir is not set" err &&
	test_must_fail cairn start -o content.backing=files -o files.dir="$PWD/blobs" true 2>err &&
	grep "files.dir $PWD/blobs: Not a directory" err
'
test_done
