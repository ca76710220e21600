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
test_expect_success 'cairn --version prints the version configure was given' '
	sed -n "s/^#define PACKAGE_VERSION \"\(.*\)\"$/\1/p" "$CAIRN_BUILDDIR/config.h" >expected &&
	test -s expected &&
	cairn --version >out &&
	test_cmp expected out
'
test_expect_success 'cairn with an unknown subcommand fails and points at --help' '
	test_must_fail cairn no-such-command >out 2>err &&
	test_must_be_empty out &&
	grep "Run with --help" err
'
test_expect_success 'cairn without a subcommand fails and says one is required' '
	test_must_fail cairn 2>err &&
	grep "A subcommand is required" err
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
