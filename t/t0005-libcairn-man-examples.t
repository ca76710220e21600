#!/bin/sh
test_description='the EXAMPLE of every libcairn man page compiles as C99 against the build
tree and runs against a broker'
. "$(dirname "$0")/lib/sharness-cairn.sh"

lib=$CAIRN_BUILDDIR/src/common/libcairn/.libs
# A sanitizer build's libcairn needs libasan first in a program built without it.
asan=$(ldd "$lib/libcairn.so.0" | sed -n "s/.*libasan[^ ]* => \([^ ]*\) .*/\1/p")

# example PAGE: the lines between .EX and .EE, groff escapes undone.
example() {
	sed -n '/^\.EX$/,/^\.EE$/p' "$1" | sed -e '1d' -e '$d' -e 's/\\e/\\/g' -e 's/\\-/-/g'
}

pages=
for page in "$CAIRN_SRCDIR"/doc/man3/cairn_*.3; do
	grep -q "^\.so " "$page" && continue
	pages="$pages $page"
done

test_expect_success 'every function of <cairn/client.h> has a page (its own or a .so link)' '
	sed -n "s/^[a-z_ ]*[ *]\(cairn_[a-z_]*\)(.*/\1/p" "$CAIRN_SRCDIR/src/include/cairn/client.h" >functions &&
	test $(wc -l <functions) -eq 19 &&
	while read -r f; do
		test -f "$CAIRN_SRCDIR/doc/man3/$f.3" || { echo "no page for $f"; return 1; }
	done <functions
'
for page in $pages; do
	name=$(basename "$page" .3)
	test_expect_success "$name(3) has an example that compiles as C99" "
		example '$page' >$name.c &&
		test -s $name.c &&
		cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -pedantic \
			-I'$CAIRN_SRCDIR/src/include' -o $name $name.c -L'$lib' -lcairn -Wl,-rpath,'$lib'
	"
	test_expect_success "$name(3)'s example runs under cairn start" "
		LD_PRELOAD='$asan' cairn start ./$name >$name.out 2>$name.err ||
		{ cat $name.out $name.err; false; }
	"
done
test_expect_success 'the store example prints each blob after its blobref' '
	grep "^sha1-[0-9a-f]\{40\} three$" cairn_content_store.out
'
test_expect_success 'the continuation example ran all four' '
	test $(grep -c "^sha1-" cairn_future_then.out) -eq 4
'
test_expect_success 'the store example works over tcp:// with CURVE as well' '
	cairn keygen server.cert >server.key &&
	cairn keygen client.cert >client.key &&
	cat >curve.toml <<-EOF &&
	[security]
	curve-cert = "server.cert_secret"
	allowed-clients = [ "$(cat client.key)" ]
	EOF
	LD_PRELOAD=$asan CAIRN_CLIENT_CERT=client.cert_secret \
		cairn start --config curve.toml --listen "tcp://127.0.0.1:*" \
		sh -c "echo \$CAIRN_URI >uri && ./cairn_content_store" >tcp.out &&
	grep "^tcp://127.0.0.1:" uri &&
	grep "^sha1-[0-9a-f]\{40\} three$" tcp.out
'
if command -v man >/dev/null 2>&1; then
	test_set_prereq MAN
else
	say "man not found: the pages are not rendered (install the Debian package man-db)"
fi
test_expect_success MAN 'man renders every page without warnings' '
	for page in $pages; do
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" >/dev/null 2>warn &&
		test_must_be_empty warn || { cat warn; return 1; }
	done
'
test_done
