#!/bin/sh
test_description='cairn is a client: it links none of the broker'"'"'s libraries. cairn start execs
cairn-broker, which loads the rados and s3 backing stores as modules only when content.backing
names them, and says which package a missing or broken module needs'
. "$(dirname "$0")/lib/sharness-cairn.sh"

cairn_bin=$CAIRN_BUILDDIR/src/cmd/cairn
broker_bin=$CAIRN_BUILDDIR/src/cmd/cairn-broker
rados_so=$CAIRN_BUILDDIR/src/modules/content-rados/.libs/backing-rados.so
s3_so=$CAIRN_BUILDDIR/src/modules/content-s3/.libs/backing-s3.so
# The backing stores configure built (CI builds both: there, a missing one fails).
for store in RADOS S3; do
	if grep -q "^#define HAVE_$store 1" "$CAIRN_BUILDDIR/config.h"; then
		test_set_prereq $store
	elif test "$CI" = true; then
		error "configure built no $store backing store (CI=true: install-deps installs its library)"
	else
		say "configured without $store: its module tests skip"
	fi
done

test_expect_success 'ldd reads cairn (it lists libstdc++)' '
	ldd "$cairn_bin" >cairn.ldd &&
	grep libstdc++ cairn.ldd
'
test_expect_success 'cairn loads none of librados, libceph-common, libs3, libsqlite3, libsystemd' '
	! grep -E "librados|libceph-common|libs3|libsqlite3|libsystemd" cairn.ldd
'
test_expect_success 'nor libcrypto, nor libzmq, which it opens only for tcp:// and keygen' '
	! grep -E "libcrypto|libzmq" cairn.ldd &&
	cairn start "LD_DEBUG=files cairn ping" 2>local.libs &&
	grep "calling init: .*libc.so" local.libs &&
	! grep libzmq local.libs &&
	LD_DEBUG=files cairn keygen key 2>keygen.libs >public &&
	test -s key_secret &&
	grep "file=libzmq.so.5 .*dynamically loaded" keygen.libs
'
test_expect_success 'cairn-broker links SQLite, neither librados nor libs3' '
	ldd "$broker_bin" >broker.ldd &&
	grep libsqlite3 broker.ldd &&
	! grep -E "librados|libceph-common|libs3" broker.ldd
'
test_expect_success RADOS 'backing-rados.so alone links librados' '
	ldd "$rados_so" | grep librados
'
test_expect_success S3 'backing-s3.so alone links libs3' '
	ldd "$s3_so" | grep libs3
'
test_expect_success 'cairn start is cairn-broker, in the same process, which loads no librados' '
	cairn start "cat /proc/\$PPID/comm /proc/\$PPID/maps" >out &&
	head -1 out >comm &&
	echo cairn-broker >expected &&
	test_cmp expected comm &&
	grep libsqlite3 out &&
	! grep -E "librados|libs3|backing-" out
'
test_expect_success 'cairn start keeps its usage errors and exit statuses' '
	test_expect_code 2 cairn start -o no.such=1 true 2>err &&
	grep "^cairn: start: --option: no.such: unknown key" err &&
	grep "(see cairn start --help)$" err &&
	test_expect_code 2 cairn --timeout 0 start true 2>err &&
	grep "^cairn: --timeout: 0 is not allowed" err &&
	test_expect_code 3 cairn start "exit 3" &&
	cairn start --help >help &&
	grep "^Usage: cairn start \[OPTIONS\]" help &&
	cairn start --help-config >keys &&
	grep "^content.backing " keys
'
test_expect_success RADOS 'the rados keys are known without loading the module' '
	grep "^rados.pool " keys &&
	test_expect_code 2 cairn start -o rados.op-timeout=0 true 2>err &&
	grep "^cairn: start: --option: rados.op-timeout:" err
'
test_expect_success RADOS 'content.backing=rados loads its module, which then asks for rados.pool' '
	test_expect_code 1 cairn start -o content.backing=rados true 2>err &&
	grep "^cairn: content.backing=rados: rados.pool is not set" err
'
test_expect_success S3 'content.backing=s3 loads its module, which then asks for s3.endpoint' '
	test_expect_code 1 cairn start -o content.backing=s3 true 2>err &&
	grep "^cairn: content.backing=s3: s3.endpoint is not set" err
'
test_expect_success RADOS 'a module that is not installed is named, with the package that builds it' '
	mkdir -p empty &&
	test_expect_code 1 env CAIRN_MODULE_DIR="$PWD/empty" cairn start \
		-o content.backing=rados -o rados.pool=p true 2>err &&
	grep "^cairn: content.backing=rados: its broker module $PWD/empty/backing-rados.so is not installed: install" err &&
	grep "librados-dev" err
'
test_expect_success S3 'so is a missing s3 module' '
	test_expect_code 1 env CAIRN_MODULE_DIR="$PWD/empty" cairn start \
		-o content.backing=s3 true 2>err &&
	grep "its broker module $PWD/empty/backing-s3.so is not installed" err &&
	grep "libs3-dev" err
'
test_expect_success RADOS 'a module that does not load says why, and the library it needs' '
	mkdir -p broken &&
	echo "not an ELF file" >broken/backing-rados.so &&
	test_expect_code 1 env CAIRN_MODULE_DIR="$PWD/broken" cairn start \
		-o content.backing=rados -o rados.pool=p true 2>err &&
	grep "cannot load its broker module $PWD/broken/backing-rados.so: .*: install librados2" err
'
test_expect_success RADOS 'a shared object that is not a backing store module is refused' '
	mkdir -p other &&
	cp "$CAIRN_BUILDDIR/src/modules/job-manager/plugins/.libs/job-stats.so" \
		other/backing-rados.so &&
	test_expect_code 1 env CAIRN_MODULE_DIR="$PWD/other" cairn start \
		-o content.backing=rados -o rados.pool=p true 2>err &&
	grep "backing-rados.so is not a cairn backing store module (it has no cairn_backing_module): reinstall cairn" err
'
# A copy of cairn outside the build tree runs the installed cairn-broker: when none is installed,
# it must say so.
libexecdir=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$CAIRN_BUILDDIR" \
	print-install-dirs | sed -n "s/^libexecdir=//p")
if test -n "$libexecdir" && ! test -e "$libexecdir/cairn-broker"; then
	test_set_prereq NOT_INSTALLED
else
	say "cairn-broker is installed in $libexecdir: a copy of cairn would run it; not checked"
fi
test_expect_success NOT_INSTALLED 'a cairn that cannot find cairn-broker says so, and exits 1' '
	mkdir -p elsewhere &&
	cp "$cairn_bin" elsewhere/cairn &&
	test_expect_code 1 elsewhere/cairn start true 2>err &&
	grep "^cairn: start: cannot run the broker $libexecdir/cairn-broker: No such file or directory" err
'
test_done
