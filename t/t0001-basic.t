#!/bin/sh
test_description='build basics: the test helpers and the built tree are sane'
. "$(dirname "$0")/lib/sharness-cairn.sh"

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
