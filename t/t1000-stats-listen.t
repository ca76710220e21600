#!/bin/sh
test_description='cairn stats listen: a UDP statsd listener that checks what arrives

Traffic comes from commands run under the listener (bash /dev/udp to $CAIRN_STATSD), so no
test needs a fixed port, and every wait is bounded by --timeout or wait_for.'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# send TEXT...: each TEXT (printf %b escapes) as one datagram to $CAIRN_STATSD. bash's printf
# writes line by line (a datagram each), so the text goes through a file and one write by cat.
cat >send <<'EOF'
#!/bin/bash
pkt=$(mktemp) || exit 1
trap 'rm -f "$pkt"' EXIT
for t in "$@"; do
	printf "%b" "$t" >"$pkt" &&
	cat "$pkt" >"/dev/udp/${CAIRN_STATSD%:*}/${CAIRN_STATSD##*:}" || exit 1
done
EOF
chmod +x send
SEND="$PWD/send"

# gone PID: the process has ended (no such process, or a zombie waiting for init to reap it).
gone() {
	_gone_stat=$(ps -o stat= -p "$1") || return 0
	case $_gone_stat in Z*) return 0 ;; *) return 1 ;; esac
}

# Tests that start a listener in the background remove out and err first: the shell truncates
# err in the background child, which may run after the foreground `wait_for grep` has already
# matched the previous test's "listening on" (then the port is stale and a SIGTERM can arrive
# before the listener has even started). The rm is its own list (`|| return 1`, not `&&`):
# `rm && cairn ... &` would run the rm in the background too.
# listening_port FILE: the port a command-less listener announced on stderr (saved in FILE).
listening_port() {
	sed -n 's/^cairn: stats listen: listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$1"
}

test_expect_success '--count 1 succeeds and prints the line' '
	cairn stats listen --count 1 -- "$SEND" "a.b:1|c\n" >out 2>err &&
	echo "a.b:1|c" >expected &&
	test_cmp expected out &&
	! grep "^cairn:" err
'
test_expect_success '--count 3 waits for three packets and prints every line' '
	cairn stats listen --count 3 -- "$SEND" "a:1|c\n" "b:2|g\n" "c:3|ms\n" >out &&
	printf "a:1|c\nb:2|g\nc:3|ms\n" >expected &&
	test_cmp expected out
'
test_expect_success 'lines of one packet are printed one per line; a packet counts once' '
	test_must_fail cairn stats listen --count 2 -- "$SEND" "a:1|c\nb:2|c" >out 2>err &&
	printf "a:1|c\nb:2|c\n" >expected &&
	test_cmp expected out &&
	grep "got 1 of 2 packets (the command exited with status 0)" err
'
test_expect_success 'CAIRN_STATSD is set for the command, replacing an inherited value' '
	CAIRN_STATSD=192.0.2.1:9 cairn stats listen -- sh -c "echo \$CAIRN_STATSD >addr" &&
	grep -E "^127\.0\.0\.1:[0-9]+$" addr
'
test_expect_success 'COMMAND may follow the options without --; its options stay its own' '
	cairn stats listen --count 1 sh -c "echo \$CAIRN_STATSD >addr; \"$SEND\" \"a:1|c\n\"" --count >out &&
	grep -E "^127\.0\.0\.1:[0-9]+$" addr &&
	echo "a:1|c" >expected &&
	test_cmp expected out
'
test_expect_success '--search succeeds when every text appears in some line' '
	cairn stats listen --search cache.size --search job -- \
		"$SEND" "cairn.0.content-cache.size:3|g\n" "cairn.0.job.x:1|c\n" >out &&
	test $(wc -l <out) -eq 2
'
test_expect_success '--search fails naming the text that never came' '
	test_must_fail cairn stats listen --search a.b --search nomatch -- \
		"$SEND" "a.b:1|c\n" >out 2>err &&
	grep "^cairn: stats listen: no line contained \"nomatch\" (the command exited with status 0)$" err &&
	! grep "contained \"a.b\"" err
'
test_expect_success '--validate passes well-formed lines' '
	cairn stats listen --validate --count 1 -- \
		"$SEND" "a:1|c\nb:-2|g\nc:+3|g\nd:0.5|ms\ne:1|c|@0.5\n" >out &&
	test $(wc -l <out) -eq 5
'
test_expect_success '--validate fails on a bad line, naming it' '
	test_must_fail cairn stats listen --validate --count 2 -- \
		"$SEND" "a:1|c\nbad line\n" "b:1|c\n" >out 2>err &&
	grep "^cairn: stats listen: bad statsd line \"bad line\": no .:. between name and value$" err
'
test_expect_success '--validate rejects the multi-value timer form' '
	test_must_fail cairn stats listen --validate -- "$SEND" "t:1:2:3|ms\n" 2>err &&
	grep "bad statsd line \"t:1:2:3|ms\"" err
'
test_expect_success '--none passes when the command sends nothing' '
	cairn stats listen --none -- true >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err
'
test_expect_success '--none fails when something arrives' '
	test_must_fail cairn stats listen --none -- "$SEND" "a.b:1|c\n" >out 2>err &&
	grep "^cairn: stats listen: expected no packets, got one: \"a.b:1|c\"$" err
'
test_expect_success '--none without a command holds at --timeout' '
	cairn stats listen --none --timeout 0.5 >out 2>err &&
	test_must_be_empty out &&
	grep "listening on 127.0.0.1:" err
'
test_expect_success '--none cannot be combined with --count' '
	test_must_fail cairn stats listen --none --count 1 -- true 2>err &&
	grep -i "excludes" err
'
test_expect_success 'criteria unmet at --timeout: exit 1 naming what is missing' '
	test_expect_code 1 timeout 20 cairn stats listen --count 2 --search zzz --timeout 1 -- \
		sh -c "\"$SEND\" \"a:1|c\n\"; exec sleep 30" >out 2>err &&
	grep "^cairn: stats listen: got 1 of 2 packets; no line contained \"zzz\" (timed out after 1 s)$" err
'
test_expect_success 'criteria unmet when the command exits: its status is named' '
	test_expect_code 1 cairn stats listen --count 3 -- sh -c "\"$SEND\" \"a:1|c\n\"; exit 3" 2>err &&
	grep "got 1 of 3 packets (the command exited with status 3)$" err
'
# (--none is decided at the command's exit: with --count the listener may stop the command
# before it fails, and then no warning is due.)
test_expect_success 'criteria held but the command failed: exit 0 with a warning' '
	cairn stats listen --none -- sh -c "exit 4" >out 2>err &&
	grep "^cairn: stats listen: warning: the criteria held, but the command exited with status 4$" err
'
test_expect_success 'the command is stopped, with what it started, once the criteria hold' '
	timeout 20 cairn stats listen --count 1 -- \
		bash -c "sleep 300 & echo \$! >sleeper; \"$SEND\" \"a:1|c\n\"; wait" >out 2>err &&
	! grep "cairn: stats listen" err &&
	wait_for 10 gone "$(cat sleeper)"
'
test_expect_success 'a command that is not found exits 127' '
	test_expect_code 127 cairn stats listen --count 1 -- no-such-command-cairn 2>err &&
	grep "^cairn: stats listen: cannot run \"no-such-command-cairn\": No such file or directory" err
'
test_expect_success 'a command that cannot be executed exits 126' '
	echo "not a program" >notexec &&
	test_expect_code 126 cairn stats listen --count 1 -- ./notexec 2>err &&
	grep "cannot run \"./notexec\": Permission denied" err
'
test_expect_success 'without criteria the command'"'"'s exit status passes through' '
	test_expect_code 5 cairn stats listen -- sh -c "exit 5"
'
test_expect_success '--json prints one JSON object per packet' '
	cairn stats listen --json --count 2 -- "$SEND" "a.b:1|c\n" "x:1|g\ny:2|g\n" >out &&
	cat >expected <<-\EOF &&
	{"bytes":8,"lines":["a.b:1|c"]}
	{"bytes":12,"lines":["x:1|g","y:2|g"]}
	EOF
	test_cmp expected out
'
test_expect_success '--summary prints a table of name, type, last value, sum, rate and lines' '
	cairn stats listen --summary -- "$SEND" "a.b:1|c\n" "a.b:5|c\nq:7|g\n" "junk\n" >out &&
	cat >expected <<-\EOF &&
	a.b:1|c
	a.b:5|c
	q:7|g
	junk
	NAME TYPE LAST SUM RATE/S LINES
	a.b c 5 6 R 2
	q g 7 - - 1
	(1 line not statsd)
	EOF
	# The rate is the sum over the seconds the listen took, which vary: it must be > 0 (R).
	awk "\$1 == \"a.b\" && \$2 == \"c\" { \$5 = \$5 > 0 ? \"R\" : \"bad:\" \$5 } { \$1 = \$1; print }" \
		out >got &&
	test_cmp expected got
'
test_expect_success 'without a command: announces the port, receives, stops at the criteria' '
	rm -f out err || return 1
	cairn stats listen --count 1 --timeout 20 >out 2>err &
	pid=$! &&
	test_when_finished "kill -KILL $pid 2>/dev/null || :" &&
	wait_for 20 grep "listening on" err &&
	port=$(listening_port err) &&
	CAIRN_STATSD=127.0.0.1:$port "$SEND" "hello:1|c\n" &&
	wait $pid &&
	echo "hello:1|c" >expected &&
	test_cmp expected out
'
test_expect_success 'without a command or criteria: SIGTERM ends it with status 0' '
	rm -f out err || return 1
	cairn stats listen --summary --timeout 120 >out 2>err &
	pid=$! &&
	test_when_finished "kill -KILL $pid 2>/dev/null || :" &&
	wait_for 20 grep "listening on" err &&
	port=$(listening_port err) &&
	CAIRN_STATSD=127.0.0.1:$port "$SEND" "m:3|g\n" &&
	wait_for 20 grep "^m:3|g$" out &&
	kill -TERM $pid &&
	wait $pid &&
	grep "^m  *g  *3  *-  *-  *1$" out
'
test_expect_success 'SIGTERM with criteria unmet: exit 143 naming what is missing' '
	rm -f out err || return 1
	cairn stats listen --count 1 --timeout 20 >out 2>err &
	pid=$! &&
	test_when_finished "kill -KILL $pid 2>/dev/null || :" &&
	wait_for 20 grep "listening on" err &&
	kill -TERM $pid &&
	test_expect_code 143 wait $pid &&
	grep "got 0 of 1 packet (interrupted by SIGTERM)" err
'
test_expect_success '--port on a port in use fails naming it' '
	rm -f out err || return 1
	cairn stats listen --timeout 60 >out 2>err &
	pid=$! &&
	test_when_finished "kill -KILL $pid 2>/dev/null || :" &&
	wait_for 20 grep "listening on" err &&
	port=$(listening_port err) &&
	test_must_fail cairn stats listen --port $port --timeout 1 2>err2 &&
	grep "cannot bind 127.0.0.1:$port: Address already in use" err2 &&
	kill -TERM $pid &&
	wait $pid
'
test_expect_success '--port binds the given port' '
	rm -f out err || return 1
	cairn stats listen --timeout 60 >out 2>err &
	pid=$! &&
	test_when_finished "kill -KILL $pid 2>/dev/null || :" &&
	wait_for 20 grep "listening on" err &&
	port=$(listening_port err) &&
	kill -TERM $pid && wait $pid &&
	cairn stats listen --port $port -- sh -c "echo \$CAIRN_STATSD >addr" &&
	echo "127.0.0.1:$port" >expected &&
	test_cmp expected addr
'
test_done
