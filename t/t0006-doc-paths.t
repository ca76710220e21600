#!/bin/sh
test_description='the man pages, the unit and the example configuration name the configuration
file where configure put it ($sysconfdir/cairn/cairn.toml), and no other place'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# A make of the build tree, not of the make check that runs this script.
build_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$CAIRN_BUILDDIR" "$@"
}

# wrong_paths FILE...: every path in FILE that names cairn's configuration file or directory
# (.../cairn/cairn.toml, or anything in .../etc/cairn/) but is not in $sysconfdir/cairn, as
# FILE:PATH lines. Roff's \- is read as -.
wrong_paths() {
	for f in "$@"; do
		sed 's/\\-/-/g' "$f" |
			grep -o "[^[:space:]\"'(=]*\(/cairn/cairn\.toml\|/etc/cairn/[^[:space:]\"')]*\)" |
			while read -r path; do
				case "$path" in
				"$sysconfdir"/cairn/*) ;;
				*) echo "$f: $path" ;;
				esac
			done
	done
}

test_expect_success 'the configured directories' '
	build_make print-install-dirs >dirs &&
	. ./dirs &&
	test -n "$sysconfdir"
'
test -f dirs && . ./dirs

# The pages as installed: those made from a .in in the build tree, the others from the source.
{
	for page in "$CAIRN_SRCDIR"/doc/man[1-7]/*.[1-7]; do
		echo "$page"
	done
	for page in "$CAIRN_SRCDIR"/doc/man[1-7]/*.[1-7].in; do
		name=${page#"$CAIRN_SRCDIR"/}
		echo "$CAIRN_BUILDDIR/${name%.in}"
	done
} | sort -u >documents
echo "$CAIRN_BUILDDIR/etc/cairn.service" >>documents
echo "$CAIRN_SRCDIR/etc/cairn.toml" >>documents

test_expect_success 'the check finds a wrong path' '
	printf "%s\n" ".B \\-\\-config /etc/cairn/cairn.toml" "curve-cert = \"/etc/cairn/x_secret\"" \
		"# /opt/cairn/cairn.toml" "see etc/cairn.toml" "$sysconfdir/cairn/cairn.toml" >sample &&
	wrong_paths sample >found &&
	cat >expected <<-EOF &&
	sample: /etc/cairn/cairn.toml
	sample: /etc/cairn/x_secret
	sample: /opt/cairn/cairn.toml
	EOF
	if test "$sysconfdir" = /etc; then grep -v "/etc/cairn/" expected >e && mv e expected; fi &&
	test_cmp expected found
'
test_expect_success 'every page is built and has no @...@ left' '
	while read -r doc; do
		test -f "$doc" || { echo "missing: $doc"; return 1; }
		! grep "@[a-z_]*@" "$doc" || return 1
	done <documents
'
test_expect_success 'no page, nor the unit, nor the example config names another place' '
	wrong_paths $(cat documents) >wrong &&
	test_must_be_empty wrong
'
test_expect_success 'cairn(1), cairn-start(1), cairn-cluster(7) and the unit name the file' '
	for doc in doc/man1/cairn.1 doc/man1/cairn-start.1 doc/man7/cairn-cluster.7 etc/cairn.service
	do
		sed "s/\\\\-/-/g" "$CAIRN_BUILDDIR/$doc" | grep -F "$sysconfdir/cairn/cairn.toml" ||
		{ echo "$doc does not name $sysconfdir/cairn/cairn.toml"; return 1; }
	done
'
test_done
