#!/bin/sh
test_description='build basics: the built cairn runs, and the test helpers work'
. "$(dirname "$0")/lib/sharness-cairn.sh"

test_expect_success 'cairn in PATH is the one just built' '
	test "$(command -v cairn)" = "$CAIRN_BUILDDIR/src/cmd/cairn"
'
test_expect_success 'cairn --help lists every subcommand' '
	cairn --help >out &&
	grep "^Usage: .*cairn \[OPTIONS\] SUBCOMMAND" out &&
	for sub in start ping dmesg keygen rpc stats content submit run jobs job jobtap; do
		grep "^  $sub  " out || return 1
	done
'
test_expect_success 'cairn --version prints cairn and the version configure was given' '
	sed -n "s/^#define PACKAGE_VERSION \"\(.*\)\"$/cairn \1/p" "$CAIRN_BUILDDIR/config.h" >expected &&
	test -s expected &&
	cairn --version >out &&
	test_cmp expected out
'
# Every usage error exits 2 with one line: cairn: [COMMAND: ]WHAT (see cairn [COMMAND] --help).
usage_error() {
	expected=$1 &&
	shift &&
	test_expect_code 2 cairn "$@" >out 2>err &&
	test_must_be_empty out &&
	echo "$expected" >expected &&
	test_cmp expected err
}
test_expect_success 'an unknown command is named, exit 2' '
	usage_error "cairn: nosuch: no such command (see cairn --help)" nosuch &&
	usage_error "cairn: content: nosuch: no such command (see cairn content --help)" \
		content nosuch
'
test_expect_success 'a missing command says one is required, exit 2' '
	usage_error "cairn: a command is required (see cairn --help)" &&
	usage_error "cairn: job: a command is required (see cairn job --help)" job
'
test_expect_success 'an unknown option or extra argument is named, exit 2' '
	usage_error "cairn: --nosuch: no such option (see cairn --help)" --nosuch &&
	usage_error "cairn: ping: --nosuch: no such option (see cairn ping --help)" ping --nosuch &&
	usage_error "cairn: ping: extra: unexpected argument (see cairn ping --help)" ping extra
'
test_expect_success 'a value out of range says what is allowed, exit 2' '
	usage_error "cairn: ping: --count: 0 is not allowed: expected 1 or more (see cairn ping --help)" \
		ping --count 0 &&
	usage_error "cairn: ping: --count: '\''abc'\'' is not a positive integer (see cairn ping --help)" \
		ping -c abc &&
	usage_error "cairn: ping: --payload-size: -1 is not allowed: expected 0 to 1073741824 (see cairn ping --help)" \
		ping -s -1 &&
	usage_error "cairn: stats listen: --port: 65536 is not allowed: expected 0 to 65535 (see cairn stats listen --help)" \
		stats listen --port 65536 &&
	usage_error "cairn: stats listen: --timeout: -1 is not allowed: expected 0 or more (see cairn stats listen --help)" \
		stats listen --timeout=-1 &&
	usage_error "cairn: job wait: ID: 0 is not allowed: expected 1 or more (see cairn job wait --help)" \
		job wait 0
'
test_expect_success 'a value its type cannot hold says what is allowed, exit 2, not CLI11 text' '
	usage_error "cairn: ping: --count: '\''1.5'\'' is not a positive integer (see cairn ping --help)" \
		ping -c 1.5 &&
	usage_error "cairn: ping: --count: 99999999999 is not allowed: expected at most 2147483647 (see cairn ping --help)" \
		ping -c 99999999999 &&
	usage_error "cairn: ping: --payload-size: 99999999999999999999 is not allowed: expected 0 to 1073741824 (see cairn ping --help)" \
		ping -s 99999999999999999999 &&
	usage_error "cairn: job wait: ID: '\''x1'\'' is not a positive integer (see cairn job wait --help)" \
		job wait x1 &&
	usage_error "cairn: stats listen: --timeout: '\''soon'\'' is not a number (see cairn stats listen --help)" \
		stats listen --timeout soon
'
test_expect_success 'a missing argument is named, exit 2' '
	usage_error "cairn: keygen: PATH is required (see cairn keygen --help)" keygen
'
test_expect_success 'a usage error a command finds itself also exits 2' '
	test_expect_code 2 cairn submit 2>err &&
	grep -x "cairn: submit: no command given: cairn submit COMMAND \[ARG...\]" err
'
test_expect_success 'build directory is exported to tests' '
	test -d "$CAIRN_BUILDDIR" &&
	test -f "$CAIRN_BUILDDIR/config.status"
'
test_expect_success 'wait_for succeeds as soon as the condition holds' '
	touch ready &&
	wait_for 5 test -f ready
'
test_expect_success 'wait_for fails after its timeout when the condition never holds' '
	test_must_fail wait_for 1 test -f never-created
'
test_done
