#!/bin/sh
test_description='cairn start tells systemd it is ready (sd_notify READY=1) once its socket is bound
and its modules and plugins are loaded, as the Type=notify unit needs'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

if ! grep -q "^#define HAVE_SYSTEMD 1" "$CAIRN_BUILDDIR/config.h"; then
	skip_all="built --without-systemd: cairn start sends no readiness notice"
	test_done
fi
if ! command -v python3 >/dev/null 2>&1; then
	test "$CI" = true && error "python3 not found (CI=true: install the Debian package python3)"
	skip_all="python3 not found: no listener for NOTIFY_SOCKET (install the Debian package python3)"
	test_done
fi

CAIRN_PLUGIN_PATH=$CAIRN_BUILDDIR/src/modules/job-manager/plugins/.libs
export CAIRN_PLUGIN_PATH

# notify_listen SOCKET OUT: a datagram socket where systemd would listen; each notice it gets
# goes to OUT (one line per notice, newlines inside made spaces). Its pid is in OUT.pid.
notify_listen() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "a") as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg.replace("\n", " ") + "\n")
        out.flush()
' "$1" "$2" &
	echo $! >"$2.pid"
	wait_for 10 test -e "$2.ready"
}

test_expect_success 'READY=1 arrives, and then the broker answers and its plugin is loaded' '
	notify_listen "$(pwd)/notify.sock" notices &&
	test_when_finished "kill \$(cat notices.pid)" &&
	NOTIFY_SOCKET=$(pwd)/notify.sock broker_start b1 --statedir s1 \
		-o "job-manager.plugins=[\"job-stats\"]" &&
	wait_for 20 grep READY=1 notices &&
	grep "^READY=1 STATUS=serving at $(broker_uri b1)$" notices &&
	CAIRN_URI=$(broker_uri b1) cairn jobtap list >plugins &&
	grep "^job-stats	" plugins &&
	broker_signal b1 TERM &&
	broker_wait b1 &&
	test "$(cat b1.status)" = 0
'
test_expect_success 'NOTIFY_SOCKET is not passed on to the initial program or jobs' '
	NOTIFY_SOCKET=$(pwd)/notify.sock cairn start \
		"echo \"program:\${NOTIFY_SOCKET:-unset}\"; cairn run sh -c \"echo job:\\\${NOTIFY_SOCKET:-unset}\"" >out &&
	grep "^program:unset$" out &&
	grep "^job:unset$" out
'
test_expect_success 'without NOTIFY_SOCKET (not under systemd) nothing is sent and all is well' '
	cairn start cairn ping
'
test_done
