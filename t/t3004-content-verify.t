#!/bin/sh
test_description='content: a blob read back from the backing store is checked against its
blobref; a tampered copy is refused with an error naming the blob, the SQLite row and the
repair, logged and counted; storing the blob again and flushing replaces the tampered row'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# Rewrites every stored object in a content.sqlite file (python3's sqlite3; no sqlite3 CLI).
tamper() {
	python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE objects SET object = CAST(? AS BLOB)", ("tampered",)).rowcount
db.commit()
print(n)' "$1"
}

test_expect_success 'a blob is stored and flushed to SQLite' '
	echo "the real data" >blob &&
	cairn start --statedir sd "cairn content store <blob >ref && cairn content flush" &&
	test -s ref
'
test_expect_success 'its stored copy is tampered with while no broker runs' '
	echo 1 >expect &&
	tamper sd/content.sqlite >count &&
	test_cmp expect count
'
test_expect_success 'loading it fails naming the blob; nothing is printed; the error is logged' '
	cairn start --statedir sd \
		"cairn content load \$(cat ref) >out 2>err; echo \$? >rc;
		 cairn dmesg >dmesg; cairn content stats >stats.json" &&
	test "$(cat rc)" != 0 &&
	test_must_be_empty out &&
	grep "corrupt" err &&
	grep "$(cat ref).*does not match its hash" dmesg &&
	test "$(jq .\"backing-corrupt\" stats.json)" = 1
'
test_expect_success 'the error names the row and the database, and says how to repair it' '
	grep "row $(cat ref) of table objects in .*sd/content.sqlite" err &&
	grep "store the original data again (cairn content store), then cairn content flush" err
'
test_expect_success 'storing the blob again and flushing replaces the tampered row' '
	cairn start --statedir sd \
		"cairn content load \$(cat ref) >/dev/null 2>&1;
		 cairn content missing \$(cat ref) >missing &&
		 cairn content store <blob >ref.again && cairn content flush" &&
	test_cmp ref ref.again &&
	test_cmp ref missing &&
	cairn start --statedir sd "cairn content load \$(cat ref) >out.repaired" &&
	test_cmp blob out.repaired
'
test_expect_success 'an intact blob still loads, and its bytes read are counted' '
	echo "another blob" >blob2 &&
	cairn start --statedir sd2 "cairn content store <blob2 >ref2 && cairn content flush" &&
	cairn start --statedir sd2 \
		"cairn content load \$(cat ref2) >out2 && cairn content stats >stats2.json" &&
	test_cmp blob2 out2 &&
	test "$(jq .\"backing-bytes-read\" stats2.json)" = "$(wc -c <blob2)"
'
test_done
