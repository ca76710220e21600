#!/bin/sh
test_description='make install: the unit, the example configuration where cairn(1), cairn-start(1)
and the unit say it is, the plugin without its .la, bash completion; systemd-analyze verify'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# A make of the build tree, not of the make check that runs this script.
build_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$CAIRN_BUILDDIR" "$@"
}
# libtool cannot install below a path with a space in it, as the trash directory's is.
root=$(mktemp -d "${TMPDIR:-/tmp}/cairn-install.XXXXXX") || error "cannot make a DESTDIR"

test_expect_success 'make install DESTDIR=root' '
	build_make print-install-dirs >dirs &&
	. ./dirs &&
	build_make install DESTDIR="$root" >install.out 2>&1 ||
	{ cat install.out; false; }
'
test -f dirs && . ./dirs
unit=$root$systemdsystemunitdir/cairn.service
conf=$sysconfdir/cairn/cairn.toml
# configure --with-systemdsystemunitdir=no or --with-bashcompletiondir=no leaves them out.
if test -n "$systemdsystemunitdir"; then
	test_set_prereq UNIT
else
	say "configured --with-systemdsystemunitdir=no: the unit is not installed, its tests skip"
fi
if test -n "$bashcompletiondir"; then
	test_set_prereq COMPLETION
else
	say "configured --with-bashcompletiondir=no: the completion is not installed, its test skips"
fi

test_expect_success UNIT 'the unit is installed, runs the installed cairn with the one config path' '
	test -f "$unit" &&
	grep "^ExecStart=$bindir/cairn start .*--config $conf$" "$unit" &&
	test -x "$root$bindir/cairn" &&
	! grep "@[a-zA-Z_]*@" "$unit"
'
test_expect_success UNIT 'the unit is Type=notify when built with libsystemd (else exec)' '
	grep "^Type=$SYSTEMD_SERVICE_TYPE$" "$unit" &&
	if grep -q "^#define HAVE_SYSTEMD 1" "$CAIRN_BUILDDIR/config.h"; then
		test "$SYSTEMD_SERVICE_TYPE" = notify
	else
		test "$SYSTEMD_SERVICE_TYPE" = exec
	fi
'
test_expect_success 'the example configuration is installed there, and cairn start accepts it' '
	test_cmp "$CAIRN_SRCDIR/etc/cairn.toml" "$root$conf" &&
	cairn start --config "$root$conf" true
'
test_expect_success 'cairn(1), cairn-start(1) and cairn.toml(5) name that same path' '
	for page in man1/cairn.1 man1/cairn-start.1 man5/cairn.toml.5; do
		grep -F "$conf" "$root$mandir/$page" || return 1
		! grep "@[a-zA-Z_]*@" "$root$mandir/$page" || return 1
	done &&
	! grep -F "/etc/cairn.toml" "$root$mandir/man1/cairn-start.1"
'
test_expect_success UNIT 'the man pages the unit points to are installed' '
	sed -n "s/^Documentation=//p" "$unit" | tr " " "\n" >docs &&
	test -s docs &&
	while read -r doc; do
		page=${doc#man:} name=${page%(*} section=${page#*(} section=${section%)} &&
		test -f "$root$mandir/man$section/$name.$section" || return 1
	done <docs
'
test_expect_success 'job-stats.so is installed in the plugin directory, without job-stats.la' '
	test -f "$root$plugindir/job-stats.so" &&
	! test -e "$root$plugindir/job-stats.la" &&
	ls "$root$plugindir" >plugins &&
	echo job-stats.so >expected &&
	test_cmp expected plugins
'
test_expect_success 'cairn-broker is installed in libexecdir, where cairn start runs it' '
	test -x "$root$libexecdir/cairn-broker" &&
	strings "$root$bindir/cairn" | grep -x "$libexecdir"
'
test_expect_success 'the backing store modules are installed in the module directory, without .la' '
	{ ls "$root$moduledir" 2>/dev/null >modules || :; } &&
	: >expected &&
	if grep -q "^#define HAVE_RADOS 1" "$CAIRN_BUILDDIR/config.h"; then
		echo backing-rados.so >>expected
	fi &&
	if grep -q "^#define HAVE_S3 1" "$CAIRN_BUILDDIR/config.h"; then
		echo backing-s3.so >>expected
	fi &&
	test_cmp expected modules
'
test_expect_success COMPLETION 'the bash completion is installed as cairn' '
	test -f "$root$bashcompletiondir/cairn" &&
	grep "complete -F _cairn cairn" "$root$bashcompletiondir/cairn"
'

# systemd-analyze verify checks the unit as systemd would load it. It must find ExecStart's
# program, so the unit is checked as installed except that the program is looked up below
# DESTDIR; the man pages were checked above (--man=no: they are not in man's path here).
if command -v systemd-analyze >/dev/null 2>&1; then
	test_set_prereq SYSTEMD_ANALYZE
elif test "$CI" = true; then
	test_expect_success 'systemd-analyze is installed (CI=true: package systemd)' 'false'
else
	say "systemd-analyze not found: skipping its check of the unit (install the Debian package systemd)"
fi
test_expect_success UNIT,SYSTEMD_ANALYZE 'systemd-analyze verify finds nothing to say about the unit' '
	mkdir -p verify &&
	sed "s|^ExecStart=$bindir/|ExecStart=$root$bindir/|" "$unit" >verify/cairn.service &&
	systemd-analyze verify --man=no verify/cairn.service >verify.out 2>&1 ||
	{ cat verify.out; false; } &&
	test_must_be_empty verify.out
'
test_expect_success UNIT,SYSTEMD_ANALYZE 'systemd-analyze verify does report a broken unit' '
	sed "s/^Type=.*/Type=sometimes/" verify/cairn.service >verify/broken.service &&
	systemd-analyze verify --man=no verify/broken.service >broken.out 2>&1 ;
	grep "Type\|type" broken.out
'

test_expect_success 'a reinstall keeps an edited configuration' '
	echo "[heartbeat]" >>"$root$conf" &&
	echo "period = 1.0" >>"$root$conf" &&
	build_make install-data DESTDIR="$root" >reinstall.out 2>&1 &&
	grep "keeping" reinstall.out &&
	grep "^period = 1.0$" "$root$conf"
'
test_expect_success 'make uninstall removes what make install put there, but the edited config' '
	build_make uninstall DESTDIR="$root" >uninstall.out 2>&1 ||
	{ cat uninstall.out; false; } &&
	find "$root" -type f >left &&
	echo "$root$conf" >expected &&
	test_cmp expected left
'
rm -rf "$root"
test_done
