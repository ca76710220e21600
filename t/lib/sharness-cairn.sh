# Helpers for cairn's sharness tests. A test script starts with:
#   test_description='...'
#   . "$(dirname "$0")/lib/sharness-cairn.sh"
# It puts the build tree's `cairn` first in PATH and sources Debian's sharness.
: "${CAIRN_BUILDDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${CAIRN_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SHARNESS:=/usr/share/sharness/sharness.sh}"
: "${SHARNESS_TEST_DIRECTORY:=$CAIRN_BUILDDIR/t}"
: "${SHARNESS_BUILD_DIRECTORY:=$CAIRN_BUILDDIR/src/cmd}"
export CAIRN_BUILDDIR CAIRN_SRCDIR SHARNESS_TEST_DIRECTORY SHARNESS_BUILD_DIRECTORY
mkdir -p "$SHARNESS_TEST_DIRECTORY"
# Telemetry from the caller's environment must not leak into tests.
unset CAIRN_STATSD CAIRN_URI
# Without sharness (configure warned) every script says so as a TAP skip; CI must have it.
if ! test -r "$SHARNESS"; then
	if test "$CI" = true; then
		echo "Bail out! $SHARNESS not found: install the Debian package sharness (CI=true: not skipped)"
		exit 1
	fi
	echo "1..0 # SKIP $SHARNESS not found: install the Debian package sharness"
	exit 0
fi
. "$SHARNESS"

# wait_for TIMEOUT CMD...: run CMD every 0.05 s until it succeeds; fail after TIMEOUT seconds.
# For waiting on a condition (a file, a line in a log), never as a fixed delay.
wait_for() {
	_wf_timeout=$1; shift
	_wf_deadline=$(( $(date +%s) + _wf_timeout ))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$_wf_deadline" ]; then
			echo "wait_for: timed out after ${_wf_timeout}s: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}
