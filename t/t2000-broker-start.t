#!/bin/sh
test_description='cairn start: initial program, exit status, signals, state directory'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

test_expect_success 'an initial program that succeeds gives status 0' '
	cairn start true
'
test_expect_success 'the exit status of the initial program is that of cairn start' '
	test_expect_code 3 cairn start sh -c "exit 3"
'
test_expect_success 'one argument is run through /bin/sh -c' '
	test_expect_code 5 cairn start "a=2 && b=3 && exit \$((a + b))"
'
test_expect_success 'several arguments are executed directly, not re-split' '
	cairn start printf "%s|" "a b" c >out &&
	printf "%s" "a b|c|" >expect &&
	test_cmp expect out
'
test_expect_success 'options after the command belong to the command' '
	cairn start echo --rank 7 -o x=y >out &&
	echo "--rank 7 -o x=y" >expect &&
	test_cmp expect out
'
test_expect_success '-- ends the options of cairn start; a later -- is the command'"'"'s' '
	test_expect_code 3 cairn start -o heartbeat.period=1 -- sh -c "exit 3" &&
	cairn start --rank 2 -- echo a -- b >out &&
	echo "a -- b" >expect &&
	test_cmp expect out
'
test_expect_success 'a command killed by signal N gives 128+N' '
	test_expect_code 143 cairn start "kill -TERM \$\$" &&
	test_expect_code 137 cairn start sh -c "kill -KILL \$\$"
'
test_expect_success 'a missing command gives 127 and says why' '
	test_expect_code 127 cairn start no-such-command-here arg 2>err &&
	grep "cairn: start: cannot run no-such-command-here: No such file or directory" err
'
test_expect_success 'a missing command run through sh also gives 127' '
	test_expect_code 127 cairn start "no-such-command-here"
'
test_expect_success 'a command that is not executable gives 126' '
	printf "#!/bin/sh\nexit 0\n" >not-exec &&
	chmod 644 not-exec &&
	test_expect_code 126 cairn start ./not-exec arg 2>err &&
	grep "cannot run ./not-exec: Permission denied" err
'
test_expect_success 'the initial program gets CAIRN_URI, a local:// socket that exists' '
	cairn start "echo \"\$CAIRN_URI\" >uri && test -S \"\${CAIRN_URI#local://}\"" &&
	grep "^local:///.*/cairn.sock$" uri
'
test_expect_success 'the initial program has the running cairn first in PATH' '
	cairn_bin=$(command -v cairn) &&
	real_dir=$(cd "$(dirname "$cairn_bin")" && pwd -P) &&
	mkdir -p fake &&
	printf "#!/bin/sh\necho a cairn from elsewhere\nexit 3\n" >fake/cairn &&
	chmod +x fake/cairn &&
	PATH=$(pwd)/fake:/usr/bin:/bin "$cairn_bin" start \
		"command -v cairn && cairn ping --count 1 >/dev/null && echo \"\$PATH\"" >out &&
	echo "$real_dir/cairn" >expect &&
	head -n 1 out >first &&
	test_cmp expect first &&
	echo "$real_dir:$(pwd)/fake:/usr/bin:/bin" >expect &&
	tail -n 1 out >last &&
	test_cmp expect last
'
test_expect_success 'several arguments: the command itself is found through that PATH' '
	PATH=/usr/bin:/bin "$cairn_bin" start cairn ping --count 1
'
test_expect_success 'the default state directory is private and removed at exit' '
	cairn start "stat -c %a \"\$(dirname \"\${CAIRN_URI#local://}\")\" >mode; echo \"\$CAIRN_URI\" >uri" &&
	echo 700 >expect &&
	test_cmp expect mode &&
	dir=$(dirname "$(sed "s|^local://||" uri)") &&
	! test -e "$dir"
'
test_expect_success '--statedir is created (mode 0700), holds the socket and is kept' '
	cairn start --statedir sd "echo \"\$CAIRN_URI\" >uri" &&
	test -d sd &&
	test "$(stat -c %a sd)" = 700 &&
	grep "^local://$(pwd)/sd/cairn.sock$" uri
'
test_expect_success 'a --statedir that is not 0700 gets a 0700 subdirectory for the socket' '
	mkdir -m 755 open-sd &&
	cairn start --statedir open-sd "echo \"\$CAIRN_URI\" >uri" &&
	grep "^local://$(pwd)/open-sd/run/cairn.sock$" uri &&
	test "$(stat -c %a open-sd/run)" = 700 &&
	test "$(stat -c %a open-sd)" = 755
'
test_expect_success 'a --statedir that is a file is refused' '
	touch a-file &&
	test_expect_code 1 cairn start --statedir a-file true 2>err &&
	grep "cairn: statedir: .*a-file exists and is not a directory" err
'
test_expect_success 'a --statedir in use by a running broker is refused at once, naming its pid' '
	broker_start lock1 --statedir sd-lock &&
	test "$(cat sd-lock/cairn.lock)" = "$(cat lock1.pid)" &&
	test_expect_code 1 cairn start --statedir sd-lock true 2>err &&
	grep "^cairn: statedir: $(pwd)/sd-lock is in use by another broker (pid $(cat lock1.pid), which holds $(pwd)/sd-lock/cairn.lock): stop that broker first, or give this one a --statedir of its own$" err
'
test_expect_success 'the refused broker left the running one its socket' '
	test -S sd-lock/cairn.sock &&
	CAIRN_URI=$(broker_uri lock1) cairn ping
'
test_expect_success 'once the holder stops, the --statedir can be used again' '
	broker_signal lock1 TERM &&
	broker_wait lock1 &&
	echo 0 >expect &&
	test_cmp expect lock1.status &&
	cairn start --statedir sd-lock true
'
test_expect_success 'a broker killed with SIGKILL leaves no lock behind' '
	broker_start lock2 --statedir sd-lock &&
	broker_signal lock2 KILL &&
	broker_wait lock2 &&
	cairn start --statedir sd-lock true
'
if test "$(id -u)" = 0; then
	test_set_prereq ROOT
else
	echo "not root: cannot give a socket directory to another user; that test is skipped" >&2
fi
test_expect_success ROOT 'a socket directory owned by another user is refused and left alone' '
	mkdir -m 755 foreign-sd foreign-sd/run &&
	chown nobody foreign-sd/run &&
	test_expect_code 1 cairn start --statedir foreign-sd true 2>err &&
	cat err &&
	grep "^cairn: statedir: $(pwd)/foreign-sd/run (the socket.s directory) is owned by uid [0-9]* (nobody), not by uid 0 (root) who runs the broker" err &&
	grep "remove it (rm -r $(pwd)/foreign-sd/run) or chown it to root, or give another --statedir$" err &&
	test "$(stat -c %a foreign-sd/run)" = 755 &&
	test "$(stat -c %U foreign-sd/run)" = nobody &&
	! test -e foreign-sd/run/cairn.sock
'
test_expect_success ROOT 'given back to root, the same socket directory is used and made 0700' '
	chown root foreign-sd/run &&
	cairn start --statedir foreign-sd "echo \"\$CAIRN_URI\" >uri" &&
	grep "^local://$(pwd)/foreign-sd/run/cairn.sock$" uri &&
	test "$(stat -c %a foreign-sd/run)" = 700
'
test_expect_success 'without a command, cairn start prints its URI on stdout and a hint on stderr' '
	broker_start b1 &&
	test "$(wc -l <b1.uri)" -eq 1 &&
	grep "^local://.*/cairn.sock$" b1.uri &&
	grep "cairn: broker up at $(broker_uri b1); try: CAIRN_URI=$(broker_uri b1) cairn ping" b1.err
'
test_expect_success 'SIGTERM stops a broker without a command with status 0' '
	broker_signal b1 TERM &&
	broker_wait b1 &&
	echo 0 >expect &&
	test_cmp expect b1.status
'
test_expect_success 'its temporary state directory is gone' '
	! test -e "$(dirname "$(sed "s|^local://||" b1.uri)")"
'
test_expect_success 'SIGINT stops a broker without a command with status 0' '
	broker_start b2 --statedir sd2 &&
	test -S sd2/cairn.sock &&
	broker_signal b2 INT &&
	broker_wait b2 &&
	echo 0 >expect &&
	test_cmp expect b2.status &&
	test -d sd2
'
test_expect_success 'SIGTERM to cairn start is forwarded to the initial program' '
	rm -f child.pid &&
	( cairn start sh -c "echo \$\$ >child.pid; exec sleep 300" &
	  echo $! >b3.pid; wait $!; echo $? >b3.status ) &
	wait_for 20 test -s child.pid &&
	kill -TERM "$(cat b3.pid)" &&
	broker_wait b3 &&
	echo 143 >expect &&
	test_cmp expect b3.status
'
test_expect_success 'tcp:// without security.curve-cert is refused, naming the key' '
	test_expect_code 1 cairn start --listen "tcp://127.0.0.1:*" true 2>err &&
	grep "cairn: config: security.curve-cert: a tcp:// endpoint requires CURVE" err
'
test_expect_success 'an endpoint that cannot be bound stops start-up' '
	test_expect_code 1 cairn start --listen "bogus://x" true 2>err &&
	grep "cairn: listen: .bogus://x. is not an endpoint cairn can listen on: give local://PATH or tcp://HOST:PORT" err &&
	test_expect_code 1 cairn start --listen "local://$PWD/no-such-dir/s.sock" true 2>err &&
	grep "cairn: listen: cannot bind local://$PWD/no-such-dir/s.sock: No such file or directory" err
'
test_expect_success 'a --rank that is not a non-negative integer is a usage error (exit 2)' '
	test_expect_code 2 cairn start --rank -1 touch ran 2>err &&
	echo "cairn: start: --rank: -1 is not allowed: expected 0 or more (see cairn start --help)" >expected &&
	test_cmp expected err &&
	test_expect_code 2 cairn start --rank abc touch ran 2>err &&
	echo "cairn: start: --rank: '\''abc'\'' is not a non-negative integer (see cairn start --help)" >expected &&
	test_cmp expected err &&
	test_expect_code 2 cairn start --rank 1.5 touch ran 2>err &&
	grep -x "cairn: start: --rank: .1.5. is not a non-negative integer (see cairn start --help)" err &&
	test_expect_code 2 cairn start --rank 4294967296 touch ran 2>err &&
	grep -x "cairn: start: --rank: 4294967296 is not allowed: expected at most 2147483647 (see cairn start --help)" err &&
	! test -e ran
'
test_expect_success 'global options before start do not hide the -- that ends its options' '
	cairn --timeout 5 start --rank 2 -- echo a -- b >out &&
	echo "a -- b" >expect &&
	test_cmp expect out
'
test_done
