#!/bin/sh
test_description='the Python package cairn (t/python, pytest) against real brokers'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# The Python configure picked (one that imports cffi), the package as `make` laid it out in the
# build tree. A sanitizer build's libcairn needs libasan loaded first, in an interpreter that
# was not built with it: preload the libasan libcairn links, and leave leak checks to the C
# tests (the interpreter's own allocations would be reported).
site=$CAIRN_BUILDDIR/src/bindings/python/site
libcairn=$CAIRN_BUILDDIR/src/common/libcairn/.libs/libcairn.so.0
if test -z "$CAIRN_PYTHON"; then
	skip_all="configured --without-python: the Python package is not built"
	test_done
fi
if test "$CAIRN_HAVE_PYTEST" != yes; then
	if test "$CI" = true; then
		test_expect_success "pytest for $CAIRN_PYTHON (CI=true: install python3-pytest)" 'false'
		test_done
	fi
	skip_all="$CAIRN_PYTHON cannot import pytest: install the Debian package python3-pytest"
	test_done
fi
asan=$(ldd "$libcairn" | sed -n "s/.*libasan[^ ]* => \([^ ]*\) .*/\1/p")
if test -n "$asan"; then
	run_python() {
		env LD_PRELOAD="$asan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
			PYTHONPATH="$site" PYTHONDONTWRITEBYTECODE=1 "$CAIRN_PYTHON" "$@"
	}
else
	run_python() {
		env PYTHONPATH="$site" PYTHONDONTWRITEBYTECODE=1 "$CAIRN_PYTHON" "$@"
	}
fi

test_expect_success 'the build tree package imports, and finds the build tree libcairn' '
	run_python -c "import cairn, cairn._paths; print(cairn._paths.LIBCAIRN)" >paths &&
	echo "$libcairn" >expected &&
	test_cmp expected paths
'
test_expect_success 'pytest t/python' '
	run_python -m pytest -p no:cacheprovider -v "$CAIRN_SRCDIR/t/python" >pytest.out 2>&1 ||
	{ cat pytest.out; false; } &&
	grep " passed" pytest.out
'
test_expect_success 'without libcairn, import says what to do' '
	mkdir -p nolib/cairn &&
	cp "$site"/cairn/__init__.py "$site"/cairn/_lib.py nolib/cairn/ &&
	test_must_fail env PYTHONPATH=nolib PYTHONDONTWRITEBYTECODE=1 "$CAIRN_PYTHON" \
		-c "import cairn" 2>err &&
	grep "cairn: cannot load libcairn.so.0 .*set CAIRN_LIBCAIRN" err
'
# t/perf/python-bench is a benchmark, not run by make check: this only checks that it runs (in
# a sanitizer build with libasan preloaded, as above; its figures then mean nothing).
bench_env=
if test -n "$asan"; then
	bench_env="LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
fi
if command -v redis-server >/dev/null 2>&1 && "$CAIRN_PYTHON" -c "import redis" 2>/dev/null; then
	test_set_prereq BENCH
elif test "$CI" = true; then
	test_expect_success 'python-bench needs redis-server and python3-redis (CI=true: install them)' 'false'
else
	say "python-bench smoke test skipped: no redis-server or python3-redis"
fi
test_expect_success BENCH 't/perf/python-bench runs (200 blobs, once) and prints both ratios' '
	env $bench_env "$CAIRN_BUILDDIR/t/perf/python-bench" --count 200 --runs 1 >bench.out &&
	grep "^  cairn store_many  *[0-9]*/s   redis-py SET  *[0-9]*/s   ratio [0-9.]*$" bench.out &&
	grep "^  cairn load_many  *[0-9]*/s   redis-py GET  *[0-9]*/s   ratio [0-9.]*$" bench.out
'
test_done
