#!/bin/sh
test_description='broker.socket-group and broker.socket-mode: members of a group connect to the
local:// socket, other users do not; a member is a user (content, stats, ping), not an owner,
unless security.local-owners names it; bad settings stop cairn start naming the key'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

test_expect_success 'a mode that lets every user in is refused, naming the key' '
	test_must_fail cairn start -o broker.socket-mode=0755 true 2>err &&
	grep "cairn: start: --option: broker.socket-mode: .0755. lets every user of the host connect" err &&
	grep "broker.socket-group" err
'
test_expect_success 'a mode that is not octal permissions is refused' '
	test_must_fail cairn start -o broker.socket-mode=rwx true 2>err &&
	grep "cairn: start: --option: broker.socket-mode: .rwx. is not a directory mode" err &&
	test_must_fail cairn start -o broker.socket-mode=0650 true 2>err &&
	grep "broker.socket-mode: .0650. takes rights from the broker.s own user" err
'
test_expect_success 'an unknown group is refused' '
	test_must_fail cairn start -o broker.socket-group=no-such-group-here true 2>err &&
	grep "cairn: start: --option: broker.socket-group: no group .no-such-group-here. on this host" err
'
test_expect_success 'a group kept out by mode 0700 is refused, naming both keys' '
	test_must_fail cairn start -o broker.socket-group=$(id -gn) true 2>err &&
	grep "cairn: config: broker.socket-group: group .$(id -gn). is given, but broker.socket-mode = \"0700\" keeps it out" err
'

# The rest needs a second user: as root, a throwaway group with one member and a user outside
# it, removed at the end.
if test "$(id -u)" = 0 && command -v useradd >/dev/null && command -v setpriv >/dev/null; then
	test_set_prereq ROOT
elif test "$CI" = true; then
	test_expect_success 'runs as root with useradd and setpriv (CI=true requires it)' 'false'
else
	say "not root (or no useradd/setpriv): skipping the tests with a second user"
fi

grp=cairnt$$
member=${grp}m
outsider=${grp}o
cleanup_users() {
	userdel "$member" 2>/dev/null
	userdel "$outsider" 2>/dev/null
	groupdel "$grp" 2>/dev/null
	:
}
# stop_broker NAME: SIGTERM to a broker of broker_start, if it runs, and wait for it.
stop_broker() {
	test -s "$1.status" || { broker_signal "$1" TERM && broker_wait "$1"; }
}
# as USER CMD...: run CMD as USER with that user's groups. The build tree (and this trash
# directory) may sit where other users cannot go (a checkout under /root), so a word "cairn" in
# CMD runs a copy of it in a directory everyone may pass through, where the statedirs live too.
as() {
	_as_user=$1; shift
	for _as_arg; do
		shift
		test "$_as_arg" = cairn && _as_arg=$shared/cairn
		set -- "$@" "$_as_arg"
	done
	setpriv --reuid="$_as_user" --regid="$(id -g "$_as_user")" --init-groups "$@"
}
if test_have_prereq ROOT; then
	shared=$(mktemp -d /tmp/cairn-t2007.XXXXXX) && chmod 0755 "$shared" &&
	cp "$(command -v cairn)" "$(command -v cairn-broker)" "$shared" ||
		error "cannot make a shared directory in /tmp"
fi

test_expect_success ROOT 'create a group, a member and an outsider' '
	groupadd "$grp" &&
	useradd --no-create-home --gid "$grp" "$member" &&
	useradd --no-create-home "$outsider" &&
	as "$member" id -Gn | grep -w "$grp" &&
	! as "$outsider" id -Gn | grep -w "$grp"
'
test_expect_success ROOT 'by default (0700) the other user cannot connect' '
	test_when_finished "stop_broker b0" &&
	broker_start b0 --statedir "$shared/s0" &&
	test_must_fail as "$member" env CAIRN_URI="$(broker_uri b0)" cairn ping 2>err &&
	grep "Permission denied" err &&
	CAIRN_URI="$(broker_uri b0)" cairn ping
'
test_expect_success ROOT 'with socket-group and mode 0750 a member connects, an outsider does not' '
	test_when_finished "stop_broker b1" &&
	broker_start b1 --statedir "$shared/s1" -o broker.socket-group="$grp" -o broker.socket-mode=0750 &&
	uri=$(broker_uri b1) &&
	test "$uri" = "local://$shared/s1/run/cairn.sock" &&
	as "$member" env CAIRN_URI="$uri" cairn ping &&
	echo shared | as "$member" env CAIRN_URI="$uri" cairn content store >ref &&
	CAIRN_URI="$uri" cairn content load "$(cat ref)" >out &&
	echo shared >expected &&
	test_cmp expected out &&
	test_must_fail as "$outsider" env CAIRN_URI="$uri" cairn ping 2>err &&
	grep "Permission denied" err &&
	# the group may pass through the statedir, not read it; run/ and the socket are its
	stat -c "%a %G" "$shared/s1" >mode &&
	echo "710 $grp" >expected &&
	test_cmp expected mode &&
	stat -c "%a %G" "$shared/s1/run" >mode &&
	echo "750 $grp" >expected &&
	test_cmp expected mode &&
	stat -c "%a %G" "$shared/s1/run/cairn.sock" >mode &&
	echo "660 $grp" >expected &&
	test_cmp expected mode &&
	test_must_fail as "$member" ls "$shared/s1"
'
test_expect_success ROOT 'a member gets the user role: content and ping, EPERM for jobs; the owner runs jobs' '
	test_when_finished "stop_broker r1" &&
	broker_start r1 --statedir "$shared/r1" -o broker.socket-group="$grp" -o broker.socket-mode=0750 &&
	uri=$(broker_uri r1) &&
	echo hi | as "$member" env CAIRN_URI="$uri" cairn content store >ref &&
	as "$member" env CAIRN_URI="$uri" cairn content load "$(cat ref)" >out &&
	echo hi >expected &&
	test_cmp expected out &&
	test_expect_code 1 as "$member" env CAIRN_URI="$uri" cairn run true 2>err &&
	grep "permission denied: uid $(id -u "$member") is not an owner of this broker" err &&
	grep "security.local-owners" err &&
	test_expect_code 1 as "$member" env CAIRN_URI="$uri" cairn jobtap list 2>err &&
	grep "permission denied" err &&
	CAIRN_URI="$uri" cairn run echo owner >out &&
	echo owner >expected &&
	test_cmp expected out
'
test_expect_success ROOT 'security.local-owners makes a member an owner, by user or by group' '
	test_when_finished "stop_broker r2" &&
	broker_start r2 --statedir "$shared/r2" -o broker.socket-group="$grp" -o broker.socket-mode=0750 \
		-o security.local-owners="$member" &&
	as "$member" env CAIRN_URI="$(broker_uri r2)" cairn run echo member >out &&
	echo member >expected &&
	test_cmp expected out &&
	stop_broker r2 &&
	test_when_finished "stop_broker r3" &&
	broker_start r3 --statedir "$shared/r3" -o broker.socket-group="$grp" -o broker.socket-mode=0750 \
		-o security.local-owners="$grp" &&
	as "$member" env CAIRN_URI="$(broker_uri r3)" cairn run echo group >out &&
	echo group >expected &&
	test_cmp expected out
'
test_expect_success 'security.local-owners naming nobody on this host stops cairn start, naming the key' '
	test_must_fail cairn start -o security.local-owners=no-such-user-or-group-x true 2>err &&
	grep "security.local-owners: .no-such-user-or-group-x. is neither a user nor a group on this host" err
'
test_expect_success ROOT 'with --listen local://DIR/NAME the settings apply to DIR' '
	mkdir -m 0700 "$shared/sockdir" &&
	test_when_finished "stop_broker b2" &&
	broker_start b2 --statedir "$shared/s2" --listen "local://$shared/sockdir/c.sock" \
		-o broker.socket-group="$grp" -o broker.socket-mode=0750 &&
	as "$member" env CAIRN_URI="$(broker_uri b2)" cairn ping &&
	test_must_fail as "$outsider" env CAIRN_URI="$(broker_uri b2)" cairn ping &&
	stat -c "%a %G" "$shared/sockdir" >mode &&
	echo "750 $grp" >expected &&
	test_cmp expected mode &&
	# the statedir, where the socket is not, stays closed to the group
	stat -c "%a" "$shared/s2" >mode &&
	echo 700 >expected &&
	test_cmp expected mode
'
test_expect_success ROOT 'a socket directory of another user is still refused' '
	mkdir -p "$shared/s3/run" &&
	chown "$outsider" "$shared/s3/run" &&
	test_must_fail cairn start --statedir "$shared/s3" -o broker.socket-group="$grp" \
		-o broker.socket-mode=0750 true 2>err &&
	grep "$shared/s3/run (the socket.s directory) is owned by uid [0-9]* ($outsider)" err
'
test_expect_success ROOT 'a group the broker user is not in is refused with what to do' '
	mkdir -m 0755 "$shared/s4" &&
	chown "$outsider" "$shared/s4" &&
	test_must_fail as "$outsider" cairn start --statedir "$shared/s4" -o broker.socket-group="$grp" \
		-o broker.socket-mode=0750 true 2>err &&
	grep "cannot give .* to group $grp (broker.socket-group): the broker.s user (uid [0-9]*) must be a member of it" err &&
	grep "SupplementaryGroups=$grp" err
'
test_expect_success ROOT 'remove the group and users' '
	cleanup_users
'
cleanup_users 2>/dev/null
test -n "$shared" && rm -rf "$shared"
test_done
