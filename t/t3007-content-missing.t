#!/bin/sh
test_description='cairn content missing: which blobrefs neither the cache nor the backing store holds

One content.missing request answers a batch of blobrefs: the missing ones are printed in
argument order (duplicates too), blobs only in memory or only on the backing store (after a
dropcache, or stored by an earlier broker on the same statedir) are not missing. Storing only
the missing files makes the set complete (the FindMissingBlobs pattern). Malformed blobrefs fail
naming the ref; no BLOBREF is a usage error.'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

# blobref_of FILE: its sha1 blobref, from coreutils.
blobref_of() {
	echo "sha1-$(sha1sum <"$1" | cut -d" " -f1)"
}

test_expect_success 'set up five files and their blobrefs' '
	for i in 1 2 3 4 5; do
		echo "file $i" >f$i && blobref_of f$i >f$i.ref || return 1
	done
'
test_expect_success 'a broker starts' '
	broker_start b --statedir sd &&
	CAIRN_URI=$(broker_uri b) && export CAIRN_URI
'
test_expect_success 'with nothing stored, every blobref is missing, in argument order' '
	cairn content missing $(cat f3.ref f1.ref f2.ref f1.ref) >out &&
	cat f3.ref f1.ref f2.ref f1.ref >expect &&
	test_cmp expect out
'
test_expect_success 'a blob in memory (dirty) is not missing' '
	cairn content store f1 >ref1 &&
	test_cmp f1.ref ref1 &&
	cairn content missing $(cat f1.ref f2.ref) >out &&
	test_cmp f2.ref out
'
test_expect_success 'a blob only on the backing store (after flush and dropcache) is not missing' '
	cairn content flush &&
	cairn content dropcache &&
	cairn content stats >stats.json &&
	test "$(jq .count stats.json)" = 0 &&
	cairn content missing $(cat f2.ref f1.ref) >out &&
	test_cmp f2.ref out
'
test_expect_success 'nothing missing: no output, exit status 0' '
	cairn content missing $(cat f1.ref) >out &&
	test_must_be_empty out
'
test_expect_success 'upload only what is missing: store the files whose blobrefs are printed' '
	for i in 1 2 3 4 5; do echo "$(cat f$i.ref) f$i"; done >index &&
	cut -d" " -f1 index >all.refs &&
	cairn content missing $(cat all.refs) >missing &&
	test $(wc -l <missing) -eq 4 &&
	grep -F -f missing index | cut -d" " -f2 >to-store &&
	cairn content store $(cat to-store) >stored &&
	test_cmp missing stored &&
	cairn content missing $(cat all.refs) >out &&
	test_must_be_empty out
'
test_expect_success 'a blobref of either case is answered as given' '
	upper=sha1-$(blobref_of f1 | cut -c6- | tr a-f A-F) &&
	echo absent >absent &&
	absent=sha1-$(blobref_of absent | cut -c6- | tr a-f A-F) &&
	cairn content missing "$upper" "$absent" >out &&
	echo "$absent" >expect &&
	test_cmp expect out
'
test_expect_success 'a malformed blobref fails naming it, before any request' '
	test_expect_code 1 cairn content missing $(cat f1.ref) sha1-xyz 2>err &&
	grep "cairn: content missing: sha1-xyz: malformed blobref" err
'
test_expect_success 'a blobref of the other hash fails naming it and the hash this broker uses' '
	test_expect_code 1 cairn content missing \
		sha256-0000000000000000000000000000000000000000000000000000000000000000 2>err &&
	grep "sha256-0\{64\}: malformed blobref: expected sha1-<40 hex digits>" err
'
test_expect_success 'no BLOBREF is a usage error (exit 2)' '
	test_expect_code 2 cairn content missing 2>err &&
	grep "content missing" err
'
test_expect_success 'the broker stops; a new one on the same statedir finds the blobs on disk' '
	broker_signal b TERM &&
	broker_wait b &&
	cairn start --statedir sd "cairn content missing \$(cat all.refs) >after; echo \$? >rc" &&
	test_must_be_empty after &&
	echo 0 >expect &&
	test_cmp expect rc
'
test_done
