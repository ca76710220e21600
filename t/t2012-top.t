#!/bin/sh
test_description='cairn top: --once frames over local:// and tcp://, the counters behind them, a live view in a pseudo-terminal, usage errors'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

# row FILE: the frame's figures (the line under the column heads), in single spaces:
# ENTRIES VALID DIRTY SIZE(2 words) REQ/S LOADS/S HIT% READS/S WRITES/S.
row() {
	sed -n "/ENTRIES/{n;p;}" "$1" | tr -s " " | sed "s/^ //"
}

test_expect_success 'start a broker (sqlite backing store)' '
	broker_start b &&
	broker_uri b >uri &&
	grep "^local://" uri
'
uri=$(cat uri)

test_expect_success 'a fresh broker: no entries, nothing moving, no loads yet' '
	CAIRN_URI=$uri cairn top --once --interval 0.2 >frame &&
	grep "^cairn top: $uri, every 0.2 s  [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$" frame &&
	grep "^since start: 0 loads, hit rate -$" frame &&
	grep -- "--- backing sqlite ---$" frame &&
	echo "0 0 0 0 B 0.0 0.0 - 0.0 0.0" >expect &&
	row frame >got &&
	test_cmp expect got &&
	! grep "$(printf "\033")" frame
'
test_expect_success 'blobs stored, flushed and loaded: the entry count, size and hit rate' '
	head -c 100 /dev/zero >b100 &&
	head -c 200 /dev/zero | tr "\0" x >b200 &&
	head -c 300 /dev/zero | tr "\0" y >b300 &&
	for f in b100 b200 b300; do
		CAIRN_URI=$uri cairn content store <$f >$f.ref || return 1
	done &&
	CAIRN_URI=$uri cairn content flush &&
	for f in b100 b200 b300; do
		CAIRN_URI=$uri cairn content load "$(cat $f.ref)" >$f.out && cmp $f $f.out || return 1
	done &&
	CAIRN_URI=$uri cairn top --once --interval 0.2 >frame &&
	grep "^since start: 3 loads, hit rate 100.0%$" frame &&
	echo "3 3 0 600 B 0.0 0.0 - 0.0 0.0" >expect &&
	row frame >got &&
	test_cmp expect got
'
test_expect_success 'content.stats-get counts the backing store reads and writes' '
	CAIRN_URI=$uri cairn content stats >s1.json &&
	test "$(jq ".\"backing-writes\"" s1.json)" = 3 &&
	test "$(jq ".\"backing-reads\"" s1.json)" = 0 &&
	CAIRN_URI=$uri cairn content dropcache &&
	CAIRN_URI=$uri cairn content load "$(cat b100.ref)" >b100.out &&
	cmp b100 b100.out &&
	CAIRN_URI=$uri cairn content stats >s2.json &&
	test "$(jq ".\"backing-reads\"" s2.json)" = 1 &&
	test "$(jq ".\"backing-writes\"" s2.json)" = 3
'
test_expect_success 'stats.status counts every request dispatched, itself included' '
	CAIRN_URI=$uri cairn rpc stats.status >st1.json &&
	CAIRN_URI=$uri cairn rpc stats.status >st2.json &&
	test "$(jq .requests st2.json)" -eq $(($(jq .requests st1.json) + 1))
'
test_expect_success 'after dropcache and one load from the store: 1 entry, 4 loads, 75% hits' '
	CAIRN_URI=$uri cairn top --once --interval 0.2 >frame &&
	grep "^since start: 4 loads, hit rate 75.0%$" frame &&
	echo "1 1 0 100 B 0.0 0.0 - 0.0 0.0" >expect &&
	row frame >got &&
	test_cmp expect got
'
test_expect_success 'sizes from 1 KiB on are shown in KiB, MiB' '
	head -c 2048 /dev/urandom >b2k &&
	CAIRN_URI=$uri cairn content store <b2k >/dev/null &&
	CAIRN_URI=$uri cairn top --once --interval 0.2 >frame &&
	test "$(row frame | cut -d" " -f1,4,5)" = "2 2.1 KiB" &&
	head -c 1048576 /dev/urandom >b1m &&
	CAIRN_URI=$uri cairn content store <b1m >/dev/null &&
	CAIRN_URI=$uri cairn top --once --interval 0.2 >frame &&
	test "$(row frame | cut -d" " -f1,4,5)" = "3 1.0 MiB"
'
# busy NAME COMMAND...: runs COMMAND over and over in the background, touching NAME.ran after
# each run, until NAME.stop exists; returns once it has run once, so the rates that follow
# are measured while it runs.
busy() {
	_name=$1; shift
	rm -f "$_name.ran" "$_name.stop"
	( while ! test -e "$_name.stop"; do "$@" >/dev/null || exit 1; : >"$_name.ran"; done ) &
	echo $! >"$_name.pid"
	test_when_finished ": >$_name.stop; wait $(cat "$_name.pid") 2>/dev/null; :"
	wait_for 20 test -e "$_name.ran"
}
# frame_shows COND: one frame of `cairn top --once` (URI $uri) whose row meets the awk COND. The
# other client's requests may fall outside one interval (a ping a second, a slow start under a
# sanitizer), so the tests wait (bounded) for a frame that shows them, not for one given frame.
frame_shows() {
	CAIRN_URI=$uri cairn top --once --interval 0.5 >frame &&
	row frame >got &&
	awk "{ exit !($1) }" got
}
test_expect_success 'another client pinging: REQ/S above 0' '
	busy ping env CAIRN_URI=$uri cairn ping --count 20 &&
	wait_for 60 frame_shows "\$6 > 0"
'
test_expect_success 'loads from the backing store: LOADS/S and READS/S above 0, HIT% 0.0%' '
	ref=$(cat b100.ref) &&
	busy load env CAIRN_URI=$uri sh -c "cairn content dropcache && cairn content load $ref" &&
	wait_for 60 frame_shows "\$7 > 0 && \$8 == \"0.0%\" && \$9 > 0"
'
test_expect_success 'no backing store: reads and writes are "-"' '
	broker_start nb -o content.backing=none &&
	CAIRN_URI=$(broker_uri nb) cairn top --once --interval 0.2 >frame &&
	grep "no backing store$" frame &&
	echo "0 0 0 0 B 0.0 0.0 - - -" >expect &&
	row frame >got &&
	test_cmp expect got
'
test_expect_success 'over tcp:// with CURVE, the same frame' '
	cairn keygen server.cert >server.key &&
	cairn keygen client.cert >client.key &&
	cat >curve.toml <<-EOF &&
	[security]
	curve-cert = "server.cert_secret"
	allowed-clients = [ "$(cat client.key)" ]
	EOF
	CAIRN_CLIENT_CERT=client.cert_secret cairn start --config curve.toml \
		--listen "tcp://127.0.0.1:*" sh -c "cairn content store <b100 >/dev/null &&
			cairn content flush && cairn top --once --interval 0.2 >tcp.frame" &&
	grep "^cairn top: tcp://127.0.0.1:[0-9]*, every 0.2 s" tcp.frame &&
	echo "1 1 0 100 B 0.0 0.0 - 0.0 0.0" >expect &&
	row tcp.frame >got &&
	test_cmp expect got
'
test_expect_success 'usage errors exit 2 and say what is allowed' '
	test_expect_code 2 cairn top --interval 0 2>err &&
	grep "^cairn: top: --interval: 0 is not allowed: expected more than 0 and at most 3600 seconds (see cairn top --help)$" err &&
	test_expect_code 2 cairn top --interval abc 2>err &&
	grep "abc is not a number" err &&
	test_expect_code 2 cairn top --interval 3601 2>err &&
	test_expect_code 2 cairn top --interval -1 2>err &&
	test_expect_code 2 cairn top --once extra 2>err &&
	grep "^cairn: top: extra: unexpected argument (see cairn top --help)$" err &&
	test_expect_code 2 cairn top --bogus 2>err &&
	grep "^cairn: top: --bogus: no such option" err
'
# A live view written to a file would be an endless stream of escape codes that no q can stop:
# without a terminal on stdout, top refuses at once and names --once, before connecting.
test_expect_success 'without a terminal and without --once: exit 1 at once, naming --once' '
	test_expect_code 1 env CAIRN_URI=$uri cairn top >out 2>err </dev/null &&
	test_must_be_empty out &&
	grep "^cairn: top: standard output is not a terminal: use --once to print one frame (for a script or a log), or run it in a terminal$" err
'
test_expect_success 'no broker: exit 1 naming the socket' '
	test_expect_code 1 env CAIRN_URI="local://$PWD/nosuch.sock" cairn top --once 2>err &&
	grep "^cairn: local://$PWD/nosuch.sock: cannot connect" err
'


if python3 -c "import pty" 2>/dev/null; then
	test_set_prereq PTY
fi
# pty_run.py KEYS COMMAND...: runs COMMAND on a new pseudo-terminal; once a frame with rates is on
# the screen types KEYS (e.g. "~q": "~" must not be echoed), or with KEYS "term:PIDFILE" sends
# SIGTERM to that pid instead, then copies all the output to stdout until COMMAND ends (it must
# echo stty-done). Every wait is bounded (exit 1 on timeout).
cat >pty_run.py <<-\EOF
import os, pty, select, signal, sys, time
keys, cmd = sys.argv[1].encode().decode("unicode_escape").encode(), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b""
def read_until(pred, timeout):
    global out
    end = time.time() + timeout
    while not pred(out):
        left = end - time.time()
        if left <= 0:
            return False
        if select.select([fd], [], [], left)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the command ended
                return pred(out)
            if not data:
                return pred(out)
            out += data
    return True
ok = read_until(lambda o: b" 0.0 " in o.split(b"READS/S")[-1], 20)
if ok and keys.startswith(b"term:"):
    os.kill(int(open(keys[5:]).read()), signal.SIGTERM)
elif ok:
    os.write(fd, keys)
if ok:
    ok = read_until(lambda o: b"stty-done" in o, 20)
sys.stdout.buffer.write(out)
if not ok:
    os.kill(pid, 9)
sys.exit(0 if ok else 1)
EOF
for how in q '\x03'; do
	test_expect_success PTY "live view: $how ends it with status 0; the terminal is restored" "
		python3 pty_run.py '~$how' sh -c 'trap : INT; CAIRN_URI=$uri cairn top --interval 0.2; echo status \$?; stty -a; echo stty-done' >live.out &&
		grep \"status 0\" live.out &&
		grep \"q or Ctrl-C quits\" live.out &&
		grep \"[^-]icanon\" live.out && ! grep -- \"-icanon\" live.out &&
		grep \"[^-]echo \" live.out && ! grep -- \" -echo \" live.out &&
		! grep \"~\" live.out &&
		grep -F \"\$(printf \"\\033[?25h\")\" live.out
	"
done
test_expect_success PTY 'live view: the broker stops: exit 1 saying so, the terminal restored' '
	broker_start gone &&
	python3 pty_run.py term:gone.pid sh -c "CAIRN_URI=$(broker_uri gone) cairn top --interval 0.2; echo status \$?; stty -a; echo stty-done" >gone.out &&
	grep "status 1" gone.out &&
	grep "^cairn: .*(the broker went away: has it stopped?)" gone.out &&
	grep "[^-]icanon" gone.out && ! grep -- "-icanon" gone.out &&
	grep "[^-]echo " gone.out && ! grep -- " -echo " gone.out
'

test_expect_success 'the brokers stop cleanly on SIGTERM' '
	broker_signal b TERM && broker_wait b && test "$(cat b.status)" = 0 &&
	broker_signal nb TERM && broker_wait nb && test "$(cat nb.status)" = 0
'

test_done
