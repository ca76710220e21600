#!/bin/sh
# with-ceph.sh [--rgw] COMMAND [ARG...]: runs COMMAND with a throwaway single-node Ceph cluster
# (t/lib/ceph.sh: a monitor and a memstore OSD, with --rgw also radosgw), for benchmarks such as
#   t/perf/with-ceph.sh --rgw t/perf/content-bench --backing rados
# COMMAND sees what ceph_start exports: CEPH_CONF and CEPH_POOL, with --rgw also S3_ENDPOINT,
# S3_BUCKET and S3_CREDENTIALS (content-bench reads them). The cluster is stopped, and its
# directory removed, when COMMAND ends or this script is interrupted; the exit status is
# COMMAND's. The OSD keeps objects in memory (1 GiB at most): remove what you write.
# --cpus CLUSTER:COMMAND (taskset CPU lists, e.g. 1:0) runs the cluster's daemons on CLUSTER and
# COMMAND on COMMAND, as when Ceph runs on nodes of its own: on a small machine the OSD otherwise
# takes CPU from the client being measured, and a ratio against the raw client measures that.
usage() {
	echo "usage: with-ceph.sh [--rgw] [--cpus CLUSTER:COMMAND] COMMAND [ARG...]" >&2
	exit 2
}
rgw=
cpus=
while test $# -gt 0; do
	case "$1" in
	--rgw) rgw=--rgw ;;
	--cpus)
		test $# -ge 2 || usage
		cpus=$2
		shift
		;;
	*) break ;;
	esac
	shift
done
cluster_cpus=
command_cpus=
if test -n "$cpus"; then
	cluster_cpus=${cpus%%:*}
	command_cpus=${cpus#*:}
	if test -z "$cluster_cpus" || test -z "$command_cpus" || test "$cpus" = "$cluster_cpus"; then
		echo "with-ceph.sh: --cpus wants CLUSTER:COMMAND, two CPU lists such as 1:0 (got $cpus)" >&2
		exit 2
	fi
	# The cluster's daemons inherit this shell's CPUs; taskset names a bad list itself.
	taskset -pc "$cluster_cpus" $$ >/dev/null || exit 2
fi
test $# -ge 1 || usage
case "$1" in -*) usage ;; esac

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
SHARNESS_TRASH_DIRECTORY=$(mktemp -d "${TMPDIR:-/tmp}/with-ceph.XXXXXX") || exit 1

# Stand-ins for the two sharness functions ceph_start relies on: `cleanup` registers a
# function to run when the test script ends (ceph.sh's own EXIT trap stops the cluster
# anyway), and `die` is sharness's EXIT handler, which ceph.sh's EXIT trap calls last.
cleanup() { :; }
die() { rm -rf "$SHARNESS_TRASH_DIRECTORY"; }
. "$srcdir/t/lib/ceph.sh"

if ! ceph_available $rgw; then
	echo "with-ceph.sh: Ceph is not installed (missing: $CEPH_MISSING; .ci/install-deps" \
		"installs it)" >&2
	die
	exit 1
fi
ceph_start $rgw || exit 1
if test -n "$command_cpus"; then
	taskset -c "$command_cpus" "$@"
else
	"$@"
fi
