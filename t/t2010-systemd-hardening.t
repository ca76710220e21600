#!/bin/sh
test_description='the systemd unit runs the broker in a sandbox: systemd-analyze security rates
the unit as built 3.0 or lower (it was 8.4 EXPOSED without one)'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# The worst overall exposure the unit may have (systemd-analyze's 0.0 to 10.0 scale).
max_exposure=3.0
unit=$CAIRN_BUILDDIR/etc/cairn.service

if ! command -v systemd-analyze >/dev/null 2>&1; then
	test "$CI" = true &&
		error "systemd-analyze not found (CI=true: install the Debian package systemd)"
	skip_all="systemd-analyze not found: install the Debian package systemd (.ci/install-deps)"
	test_done
fi

test_expect_success 'the unit is built from etc/cairn.service.in' '
	test -f "$unit" &&
	! grep "@[a-zA-Z_]*@" "$unit"
'
test_expect_success "systemd-analyze security --offline rates the unit $max_exposure or lower" '
	systemd-analyze security --offline=true --no-pager "$unit" >security.out 2>&1 ||
	{ cat security.out; false; } &&
	score=$(sed -n "s/.*Overall exposure level for cairn.service: \([0-9.]*\).*/\1/p" \
		security.out) &&
	test -n "$score" &&
	say "exposure: $score (at most $max_exposure)" &&
	awk -v s="$score" -v max="$max_exposure" "BEGIN { exit !(s <= max) }" ||
	{ grep "✗" security.out; false; }
'
test_expect_success 'the sandbox keeps what the broker needs writable and reachable' '
	grep "^ProtectSystem=strict$" "$unit" &&
	grep "^StateDirectory=cairn$" "$unit" &&
	grep "^RuntimeDirectory=cairn$" "$unit" &&
	grep "^ExecStart=.* --statedir /var/lib/cairn .*/run/cairn/" "$unit" &&
	grep "^RestrictAddressFamilies=.*AF_UNIX.*AF_INET .*AF_INET6" "$unit"
'
test_expect_success 'the unit and cairn-start(1) say that jobs run in the same sandbox' '
	grep "^# .*Jobs (.cairn run.) and jobtap plugins run inside the$" "$unit" &&
	grep -i "same sandbox" "$CAIRN_BUILDDIR/doc/man1/cairn-start.1"
'
test_done
