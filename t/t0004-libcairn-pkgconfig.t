#!/bin/sh
test_description='an outside C program builds against the installed libcairn through pkg-config
and runs against a broker; libcairn exports only cairn_* symbols'
. "$(dirname "$0")/lib/sharness-cairn.sh"

build_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$CAIRN_BUILDDIR" "$@"
}
# libtool cannot install below a path with a space in it, as the trash directory's is.
root=$(mktemp -d "${TMPDIR:-/tmp}/cairn-libcairn.XXXXXX") || error "cannot make a DESTDIR"
# A sanitizer build's libcairn needs libasan first in a program built without it.
asan=$(ldd "$CAIRN_BUILDDIR/src/common/libcairn/.libs/libcairn.so.0" |
	sed -n "s/.*libasan[^ ]* => \([^ ]*\) .*/\1/p")

test_expect_success 'make install DESTDIR=root' '
	build_make print-install-dirs >dirs &&
	build_make install DESTDIR="$root" >install.out 2>&1 ||
	{ cat install.out; false; }
'
test -f dirs && . ./dirs

test_expect_success 'libcairn.so.0, <cairn/client.h> and libcairn.pc are installed' '
	test -f "$root$libdir/libcairn.so.0" &&
	test -L "$root$libdir/libcairn.so" &&
	test -f "$root$includedir/cairn/client.h" &&
	test -f "$root$libdir/pkgconfig/libcairn.pc"
'
test_expect_success 'pkg-config libcairn gives the installed header and library' '
	PKG_CONFIG_PATH="$root$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
		pkg-config --cflags --libs libcairn >flags &&
	grep -e "-I$root$includedir" flags &&
	grep -e "-L$root$libdir -lcairn" flags
'
cat >outside.c <<\EOF
#include <cairn/client.h>
#include <stdio.h>
#include <string.h>
int main(void) {
	cairn_t *h = cairn_open(NULL, 0);
	cairn_future_t *s, *l;
	const char *ref;
	const void *data;
	size_t len;
	if (!h) { perror("cairn_open"); return 1; }
	s = cairn_content_store(h, "outside", 7);
	if (cairn_content_store_get(s, &ref) < 0) { perror("store"); return 1; }
	l = cairn_content_load(h, ref);
	if (cairn_content_load_get(l, &data, &len) < 0) { perror("load"); return 1; }
	printf("%s %.*s\n", ref, (int)len, (const char *)data);
	cairn_future_destroy(l);
	cairn_future_destroy(s);
	cairn_close(h);
	return 0;
}
EOF
test_expect_success 'an outside C program compiles and links with cc $(pkg-config ...)' '
	cc -std=c99 -Wall -Werror -o outside outside.c $(cat flags) -Wl,-rpath,"$root$libdir"
'
test_expect_success 'it runs against a broker, through the installed library' '
	LD_PRELOAD=$asan cairn start ./outside >outside.out &&
	grep "^sha1-[0-9a-f]\{40\} outside$" outside.out &&
	ldd ./outside >ldd.out &&
	grep "libcairn.so.0 => $root$libdir/libcairn.so.0" ldd.out
'
test_expect_success 'libcairn exports only cairn_* symbols' '
	nm -D --defined-only "$root$libdir/libcairn.so.0" >symbols &&
	sed "s/@.*//" symbols >names &&
	grep " T cairn_open$" names &&
	awk "\$2 != \"A\" && \$3 !~ /^cairn_/" names >others &&
	test_must_be_empty others
'
test_expect_success 'every function of <cairn/client.h> is exported, and nothing else' '
	sed -n "s/^[a-z_ ]*[ *]\(cairn_[a-z_]*\)(.*/\1/p" "$root$includedir/cairn/client.h" |
		sort >declared &&
	test $(wc -l <declared) -eq 19 &&
	awk "\$3 ~ /^cairn_/ {print \$3}" names | sort >exported &&
	test_cmp declared exported
'
test -n "$CAIRN_PYTHON" && test_set_prereq PYTHON
test_expect_success PYTHON 'the Python package is installed in the configured Python'"'"'s pythondir' '
	test -f "$root$pythondir/cairn/__init__.py" &&
	test -f "$root$pythondir/cairn/_lib.py" &&
	echo "LIBCAIRN = '"'"'$libdir/libcairn.so.0'"'"'" >expected &&
	grep "^LIBCAIRN" "$root$pythondir/cairn/_paths.py" >actual &&
	test_cmp expected actual
'
test_expect_success PYTHON 'the installed package runs against a broker through the installed library' '
	cat >installed.py <<-\EOF &&
	import cairn
	with cairn.Handle() as h:
	    print(h.load(h.store(b"installed")).decode(), cairn.__file__)
	EOF
	LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0 PYTHONDONTWRITEBYTECODE=1 \
		PYTHONPATH="$root$pythondir" CAIRN_LIBCAIRN="$root$libdir/libcairn.so.0" \
		cairn start "$CAIRN_PYTHON" installed.py >installed.out &&
	echo "installed $root$pythondir/cairn/__init__.py" >expected &&
	test_cmp expected installed.out
'
test_expect_success 'make uninstall removes libcairn, its header and its .pc' '
	build_make uninstall DESTDIR="$root" >uninstall.out 2>&1 &&
	! test -e "$root$libdir/libcairn.so.0" &&
	! test -e "$root$includedir/cairn/client.h" &&
	! test -e "$root$libdir/pkgconfig/libcairn.pc" &&
	! test -e "$root$pythondir/cairn/_paths.py" &&
	! test -e "$root$pythondir/cairn/__init__.py"
'
rm -rf "$root"
test_done
