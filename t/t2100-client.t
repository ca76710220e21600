#!/bin/sh
test_description='broker commands through libclient: ping, rpc, dmesg, errors, malformed input'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

SEND_RAW="$CAIRN_BUILDDIR/src/common/libclient/test/send_raw"

test_expect_success 'CAIRN_URI unset: a clear error saying what to do' '
	test_must_fail cairn ping 2>err &&
	grep "^cairn: CAIRN_URI is not set: run the command under \`cairn start\`, or set CAIRN_URI to the URI \`cairn start\` printed$" err
'
test_expect_success 'cairn ping under cairn start prints one round trip per ping' '
	cairn start cairn ping --count 3 --payload-size 1000 >ping.out &&
	test $(wc -l <ping.out) -eq 3 &&
	test $(grep -c "^broker.ping: time=[0-9][0-9]*\.[0-9] µs$" ping.out) -eq 3
'
test_expect_success 'cairn ping with an empty payload' '
	cairn start cairn ping >ping0.out &&
	grep "^broker.ping: time=" ping0.out
'
test_expect_success 'cairn rpc broker.ping echoes the payload' '
	cairn start cairn rpc broker.ping "hello broker" >rpc.out &&
	printf "hello broker" >rpc.expected &&
	test_cmp rpc.expected rpc.out
'
test_expect_success 'an unknown topic is answered with ENOSYS text and exit 1' '
	test_expect_code 1 cairn start cairn rpc no.such.service 2>err &&
	grep "^cairn: no.such.service: unknown service: no.such.service$" err
'
test_expect_success 'cairn dmesg prints ISO 8601 time, level and text' '
	cairn start cairn dmesg >dmesg.out &&
	grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z info: broker up at local://" dmesg.out
'
test_expect_success 'a malformed frame costs its own connection, logged; the broker still answers' '
	cat >malformed.sh <<-EOF &&
	"$SEND_RAW" "\$CAIRN_URI" garbage &&
	"$SEND_RAW" --entries "\$CAIRN_URI" "\\\\x02\\\\x01\\\\x00\\\\x00\\\\x01\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00" broker.ping x &&
	cairn dmesg >malformed-dmesg.out &&
	cairn ping
	EOF
	cairn start sh ./malformed.sh >malformed-ping.out 2>malformed.err &&
	grep "warning: closed the local:// connection of uid [0-9]* pid [0-9]*: a malformed frame: batch: header is 7 bytes, expected 8$" malformed-dmesg.out &&
	grep "warning: dropped a malformed message from client uid [0-9]* pid [0-9]*: unknown protocol version 2$" malformed-dmesg.out &&
	grep "^broker.ping: time=" malformed-ping.out
'
test_expect_success 'the broker writes the malformed-message warning to stderr too' '
	grep "dropped a malformed message" malformed.err
'
test_expect_success 'no socket: fails at once naming the URI and the errno' '
	test_expect_code 1 env CAIRN_URI="local://$PWD/no-such.sock" cairn ping 2>err &&
	grep "^cairn: local://$PWD/no-such.sock: cannot connect: No such file or directory (no broker is running on that socket; start one with .cairn start., or use the URI .cairn start. printed)$" err
'
test_expect_success 'a socket with no broker behind it is refused at once' '
	python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" \
		"$PWD/stale.sock" &&
	test_expect_code 1 env CAIRN_URI="local://$PWD/stale.sock" cairn ping 2>err &&
	grep "cannot connect: Connection refused (no broker is running on that socket" err
'
test_expect_success 'an ipc:// URI is refused at once, naming local://' '
	test_expect_code 1 env CAIRN_URI="ipc://$PWD/x.sock" cairn ping 2>err &&
	grep "^cairn: ipc://$PWD/x.sock: ipc:// is retired: local clients connect to local://PATH (here local://$PWD/x.sock)" err &&
	test_expect_code 1 cairn start --listen "ipc://$PWD/y.sock" true 2>err &&
	grep "^cairn: listen: ipc://$PWD/y.sock: ipc:// is retired: .*give --listen local://$PWD/y.sock$" err
'
test_expect_success 'a CURVE key pair for the tcp:// cases' '
	cairn keygen client >/dev/null &&
	cairn keygen server >server.key &&
	CAIRN_CLIENT_CERT=$PWD/client_secret && export CAIRN_CLIENT_CERT &&
	CAIRN_SERVER_KEY=$(tail -n1 server.key) && export CAIRN_SERVER_KEY
'
test_expect_success 'a tcp:// port nobody listens on fails at once, naming the address and the reason' '
	port=$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	test_expect_code 1 env CAIRN_URI=tcp://127.0.0.1:$port cairn ping 2>err &&
	grep "^cairn: tcp://127.0.0.1:$port: cannot connect: Connection refused (no broker listens on that port)$" err
'
test_expect_success 'a tcp:// host that does not resolve fails at once, naming it' '
	test_expect_code 1 env CAIRN_URI=tcp://nosuchhost.invalid:5555 cairn ping 2>err &&
	grep "^cairn: tcp://nosuchhost.invalid:5555: cannot connect: cannot resolve the host .nosuchhost.invalid.: " err
'
# Another uid: root runs the client as nobody (CI runs as root; elsewhere this is skipped).
test "$(id -u)" = 0 && test_set_prereq ROOT
test_expect_success ROOT 'a socket another user cannot reach is Permission denied' '
	broker_start priv --statedir "$PWD/privsd" &&
	chmod 0755 "$PWD" &&
	test_expect_code 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		env CAIRN_URI="$(broker_uri priv)" "$SHARNESS_BUILD_DIRECTORY/cairn" ping 2>err &&
	grep "cannot connect: Permission denied" err &&
	broker_signal priv TERM && broker_wait priv
'
test_expect_success 'a tcp:// port out of range is named at once' '
	test_expect_code 1 env CAIRN_URI=tcp://127.0.0.1:99999 cairn ping 2>err &&
	grep "^cairn: tcp://127.0.0.1:99999: cannot connect: port .99999. is not a number from 1 to 65535" err
'
test_expect_success 'an invalid CAIRN_RPC_TIMEOUT is named' '
	test_must_fail env CAIRN_URI="local://$PWD/x.sock" CAIRN_RPC_TIMEOUT=soon cairn ping 2>err &&
	grep "^cairn: CAIRN_RPC_TIMEOUT: .soon. is not a positive number of seconds$" err
'
test_expect_success 'cairn rpc needs a topic' '
	test_must_fail cairn rpc 2>err &&
	grep -i "TOPIC" err
'
test_done
