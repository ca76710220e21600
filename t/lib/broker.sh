# Helpers for tests that run `cairn start` in the background (source after sharness-cairn.sh).
#   broker_start NAME [START-ARGS...]  start a broker without a command; wait (bounded) until
#                                      it prints its URI into NAME.uri (stderr in NAME.err)
#   broker_signal NAME SIG             send SIG to it
#   broker_wait NAME                   wait (bounded) for it to exit; its status is in NAME.status
#   on NAME CMD...                     run CMD (a cairn command) against it: CAIRN_URI is its URI
#   broker_dmesg_has NAME PATTERN      whether its log (cairn dmesg) has a line matching PATTERN;
#                                      with wait_for, to wait for a line
# Every wait is bounded, so a broker that hangs fails the test instead of hanging make check.
# A broker still running when the script ends (a test failed before stopping it) is killed then,
# so that it cannot keep make check waiting on its output.
# BROKER_PREFIX, if set, is a command that runs cairn (and execs it, keeping its pid), e.g.
# "prlimit --fsize=65536:" to start the broker with a resource limit.

broker_start() {
	_bs_name=$1; shift
	rm -f "$_bs_name.uri" "$_bs_name.err" "$_bs_name.pid" "$_bs_name.status"
	( $BROKER_PREFIX cairn start "$@" >"$_bs_name.uri" 2>"$_bs_name.err" &
	  echo $! >"$_bs_name.pid"
	  wait $!
	  echo $? >"$_bs_name.status" ) &
	cleanup "_broker_reap $_bs_name"
	if ! wait_for 20 _broker_up_or_gone "$_bs_name" || ! test -s "$_bs_name.uri"; then
		echo "broker_start: $_bs_name did not come up:" >&2
		cat "$_bs_name.err" >&2
		return 1
	fi
}
_broker_up_or_gone() { test -s "$1.uri" || test -s "$1.status"; }
_broker_reap() {
	if test -s "$1.pid" && ! test -s "$1.status"; then
		kill -s KILL "$(cat "$1.pid")" 2>/dev/null
	fi
	return 0
}

broker_signal() {
	wait_for 10 test -s "$1.pid" && kill -s "$2" "$(cat "$1.pid")"
}

broker_wait() {
	wait_for 30 test -s "$1.status"
}

# broker_uri NAME: the URI the broker printed.
broker_uri() {
	cat "$1.uri"
}

on() {
	_on_name=$1; shift
	CAIRN_URI=$(broker_uri "$_on_name") "$@"
}

broker_dmesg_has() {
	on "$1" cairn dmesg | grep -q "$2"
}
