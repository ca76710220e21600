#!/bin/sh
test_description='memory stays bounded: replies a client leaves unread, dirty blobs while the
backing store cannot keep up, and the heap after the cache drops what it holds

Each case measures the broker'"'"'s resident size from /proc (VmHWM, the peak, or VmRSS) against a
stated bound, and would exceed it many times over without the bound it tests. Under
AddressSanitizer freed memory sits in a quarantine first (256 MiB by default), which is kept to
16 MiB here, and shadow memory and red zones come on top: a sanitizer build gets 48 MiB more on
every bound, which still leaves each far below what the broker grows by without its bound.'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
export ASAN_OPTIONS
FLOOD="$CAIRN_BUILDDIR/src/common/libclient/test/flood"
SLACK_MIB=0
if ldd "$(command -v cairn)" 2>/dev/null | grep -q libasan; then
	SLACK_MIB=48
fi

# below NAME WHAT KIB MIB: says the growth, and checks KIB is under MIB (plus SLACK_MIB) MiB.
below() {
	say "$2 of broker $1: $(( $3 / 1024 )) MiB (bound: $4 + $SLACK_MIB MiB)"
	test "$3" -lt $(( ($4 + SLACK_MIB) * 1024 ))
}

# kib FIELD NAME: a line of the broker NAME's /proc status (VmRSS, VmHWM), in KiB.
kib() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$(cat "$2.pid")/status"
}
# stat_of NAME KEY: one number from `cairn content stats`.
stat_of() {
	CAIRN_URI=$(broker_uri "$1") cairn content stats | jq ".\"$2\""
}
at_least() {
	test "$(stat_of "$1" "$2")" -ge "$3"
}
# dmesg_has NAME TEXT: the log of broker NAME has a line matching TEXT.
dmesg_has() {
	CAIRN_URI=$(broker_uri "$1") cairn dmesg | grep -q "$2"
}
stop_broker() {
	broker_signal "$1" TERM && broker_wait "$1"
}

# 1. Replies a client does not read: at most broker.peer-queue-limit bytes of them wait, then
# the broker disconnects that client (and only it).
test_expect_success 'start a broker that queues at most 16 MiB of replies per client' '
	broker_start q --statedir q.sd -o broker.peer-queue-limit=16777216 &&
	CAIRN_URI=$(broker_uri q) cairn ping -c 1 >/dev/null &&
	kib VmHWM q >q.base
'
# The client waits for a line on this FIFO, which the test holds open (as fd 8, read-write so
# that opening it does not wait) until it lets the client read; closing it lets the client go
# even if a test failed first.
mkfifo q.go && exec 8<>q.go
test_expect_success 'a client sends 300 pings of 1 MiB and reads none of the replies' '
	( "$FLOOD" "$(broker_uri q)" 300 1048576 "flood marker" <q.go >q.flood 2>q.flood.err 8>&-
	  echo $? >q.flood.status ) 8>&- &
	wait_for 180 grep "^sent " q.flood
'
test_expect_success 'the broker disconnected it past the limit, and says so' '
	wait_for 60 dmesg_has q "left [0-9]* bytes of replies unread, past broker.peer-queue-limit (16777216): disconnected"
'
test_expect_success 'the broker grew by about the limit, not by the 300 MiB of replies' '
	below q "peak resident size growth" $(( $(kib VmHWM q) - $(cat q.base) )) 64
'
test_expect_success 'the client, reading now, gets the replies sent before, then the end' '
	echo go >&8 &&
	wait_for 120 test -s q.flood.status &&
	cat q.flood.err &&
	test "$(cat q.flood.status)" = 0 &&
	ok=$(awk "\$1 == \"ok\" { print \$2 }" q.flood) &&
	say "$ok whole replies before the broker hung up" &&
	test "$ok" -lt 100 &&
	grep "^closed$" q.flood
'
exec 8>&-
test_expect_success 'other clients were served all along' '
	CAIRN_URI=$(broker_uri q) cairn ping -c 2 >q.ping &&
	test "$(grep -c "^broker.ping: time=" q.ping)" -eq 2
'
test_expect_success 'stop the broker' '
	stop_broker q
'

# 2. A backing store that cannot keep up: stores past content.dirty-limit wait. Each writer
# has at most 64 stores in flight (4 MiB here), so the broker holds the limit, those, and its
# usual buffers: 128 MiB are stored.
cat >gen.py <<\PY
import sys
# gen.py WRITER COUNT netstrings|lines: COUNT distinct blobs of 64 KiB, no newline in them.
w, count, form = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = sys.stdout.buffer
for i in range(count):
    blob = (b"%d-%08d-" % (w, i)).ljust(65536, b"x")
    out.write(b"65536:" + blob + b"," if form == "netstrings" else blob + b"\n")
PY
test_expect_success 'start a broker whose SQLite file cannot grow, with an 8 MiB dirty limit' '
	trap "" XFSZ &&
	BROKER_PREFIX="prlimit --fsize=65536:" broker_start d --statedir d.sd \
		-o content.dirty-limit=8388608 -o heartbeat.period=0.2 &&
	trap - XFSZ &&
	CAIRN_URI=$(broker_uri d) cairn ping -c 1 >/dev/null &&
	kib VmHWM d >d.base
'
test_expect_success 'four writers store 128 MiB: past 8 MiB dirty, their stores wait' '
	for w in 1 2 3 4; do
		( python3 gen.py $w 512 netstrings |
		  CAIRN_URI=$(broker_uri d) cairn content store --netstrings >w$w.refs 2>w$w.err
		  echo $? >w$w.status ) &
	done &&
	wait_for 60 at_least d stores-waiting 64 &&
	dirty=$(stat_of d dirty-size) &&
	say "$dirty bytes dirty, $(stat_of d stores-waiting) stores waiting" &&
	test "$dirty" -ge 8388608 &&
	test "$dirty" -lt $(( 8388608 + 65536 )) &&
	! test -s w1.status && ! test -s w2.status && ! test -s w3.status && ! test -s w4.status
'
test_expect_success 'the broker holds the limit and what is in flight, not 128 MiB' '
	below d "peak resident size growth" $(( $(kib VmHWM d) - $(cat d.base) )) 56
'
test_expect_success 'once the file may grow, every writer finishes and nothing failed' '
	prlimit --pid "$(cat d.pid)" --fsize=unlimited: &&
	for w in 1 2 3 4; do
		wait_for 300 test -s w$w.status &&
		cat w$w.err &&
		test "$(cat w$w.status)" = 0 || return 1
	done &&
	CAIRN_URI=$(broker_uri d) cairn content flush &&
	test "$(stat_of d dirty)" -eq 0
'
test_expect_success 'every blob loads back byte for byte' '
	for w in 1 2 3 4; do
		test $(wc -l <w$w.refs) -eq 512 &&
		python3 gen.py $w 512 lines >w$w.expect &&
		CAIRN_URI=$(broker_uri d) cairn content load --bulk <w$w.refs >w$w.out &&
		cmp w$w.expect w$w.out || return 1
	done &&
	stop_broker d
'

# 3. After dropcache empties the cache, the heap goes back to the kernel.
# The cache keeps clean blobs for an hour here, so that only dropcache drops them, however long
# the stores take.
test_expect_success 'a broker stores 128 MiB of blobs and writes them to SQLite' '
	broker_start t --statedir t.sd -o content.purge-old-entry=3600 &&
	kib VmRSS t >t.base &&
	python3 -c "import sys
for i in range(2048):
    sys.stdout.buffer.write(b\"65536:\" + (b\"%08d\" % i).ljust(65536, b\"x\") + b\",\")" |
	CAIRN_URI=$(broker_uri t) cairn content store --netstrings >t.refs &&
	test $(wc -l <t.refs) -eq 2048 &&
	CAIRN_URI=$(broker_uri t) cairn content flush &&
	rss=$(kib VmRSS t) && base=$(cat t.base) &&
	say "resident size grew by $(( (rss - base) / 1024 )) MiB" &&
	test $(( rss - base )) -gt $(( 100 * 1024 ))
'
test_expect_success 'after dropcache the resident size falls back near where it started' '
	CAIRN_URI=$(broker_uri t) cairn content dropcache &&
	test "$(stat_of t size)" -eq 0 &&
	below t "resident size growth after dropcache" $(( $(kib VmRSS t) - $(cat t.base) )) 32
'
test_expect_success 'and every blob still loads, from SQLite' '
	CAIRN_URI=$(broker_uri t) cairn content load --bulk <t.refs >t.out &&
	test $(wc -l <t.out) -eq 2048 &&
	stop_broker t
'
test_done
