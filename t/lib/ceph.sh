# A throwaway single-node Ceph cluster for sharness tests (source after sharness-cairn.sh):
# one ceph-mon, one ceph-osd with the in-memory object store (memstore), optionally one radosgw
# serving S3, all plain background processes of the test's shell on 127.0.0.1, authentication
# off, in a fresh directory inside the test's trash directory. No ceph-mgr: pools and I/O do
# not need one. Made for Debian 12's Ceph 16.2 (see .ci/install-deps).
#
#   ceph_require [--rgw]    call before the first test: when ceph_available fails, skip the whole
#                           script (skip_all) naming what is missing; with CI=true report a
#                           failing test instead and end the script
#   ceph_available [--rgw]  0 when ceph-mon, ceph-osd, monmaptool, rados, ss and python3-rados
#                           (with --rgw also radosgw, radosgw-admin and libs3's s3) are there;
#                           else 1, and CEPH_MISSING names what is missing
#   ceph_start [--rgw]      start the monitor and the OSD, create the pool CEPH_POOL and return
#                           once an object can be written and read; with --rgw also start
#                           radosgw, create an S3 user and the bucket S3_BUCKET. Call it in the
#                           test's shell (e.g. in test_expect_success), not in a subshell: the
#                           daemons are its background jobs (so a bare `wait` would wait for
#                           them: give wait a pid while they run). Each wait is bounded by
#                           CEPH_TIMEOUT seconds (default 60). On failure it prints the logs'
#                           last lines to stderr, stops what it started and returns 1. The first
#                           call sets the shell's EXIT trap (ceph_stop, then sharness's own
#                           handler) and HUP, INT, QUIT, PIPE and TERM traps (exit), and
#                           registers ceph_stop with sharness's cleanup, so no daemon outlives
#                           the script, failed or not; should the shell be SIGKILLed, the kernel
#                           kills the daemons (setpriv --pdeathsig). One cluster at a time per
#                           test script.
#   ceph_stop               stop radosgw, then the OSD, then the monitor (in that order, else
#                           radosgw or the OSD waits for the others), each resumed if paused,
#                           then SIGTERM, and SIGKILL if still there after 10 s. Idempotent.
#                           Logs stay in CEPH_DIR.
#   ceph_pause_osd, ceph_resume_osd
#                           SIGSTOP/SIGCONT the OSD, an outage in which clients' operations
#                           hang (they are not refused) until it resumes, or until the client's
#                           rados_osd_op_timeout. The monitor does not mark a stopped OSD down
#                           (no peer reports it; mon_osd_report_timeout is 15 minutes), and the
#                           OSD keeps its data. Keep pauses under 2 minutes: past its
#                           suicide timeouts the resumed OSD may abort. Never restart the OSD
#                           instead: memstore loses every object when it stops.
#   rgw_pause, rgw_resume   SIGSTOP/SIGCONT radosgw: S3 connections are accepted by the kernel
#                           but not answered until it resumes
#   rgw_stop, rgw_start     stop radosgw (S3 connections are refused), and start it again on the
#                           same port, returning once it listens
#   rgw_s3 ARGS...          run libs3's `s3` tool over plain HTTP with this cluster's endpoint
#                           and keys, e.g. rgw_s3 put "$S3_BUCKET/key" filename=file; unlike
#                           s3 itself (which exits 0 regardless), fails when the request does.
#                           s3 retries failures 5 times with back-off unless given -r 0.
#   ceph_pids               print the pids of the live processes started with this cluster's
#                           ceph.conf, one a line: nothing once ceph_stop has returned
#
# Exported by ceph_start:
#   CEPH_CONF       ceph.conf for a librados client (the default client.admin; no keyring
#                   needed): the monitor's address (msgr2 only), auth none, client timeouts
#                   of 30 s (client_mount_timeout, rados_mon_op_timeout, rados_osd_op_timeout).
#                   Ceph's tools and librados read $CEPH_CONF by default.
#   CEPH_POOL       an empty replicated pool of size 1, application "rados"
#   CEPH_DIR        the cluster's directory: ceph.conf, the daemons' logs (*.log, *.out)
# and with --rgw:
#   S3_ENDPOINT     host:port of radosgw's S3 endpoint, plain HTTP, e.g. 127.0.0.1:41234;
#                   path-style bucket addressing; any region name will do
#   S3_BUCKET       an empty bucket owned by the S3 user
#   S3_CREDENTIALS  path of a file with the S3 user's keys, exactly two lines:
#                       access_key=<access key id>
#                       secret_key=<secret access key>
#
# Ports: the monitor's is picked by binding port 0 and closing it; if ceph-mon then finds it
# taken, it fails at once and ceph_start picks another (3 tries). The OSD takes free ports in
# 6800-7300 itself. radosgw binds port 0, and its port is read back from ss. Nothing sleeps for
# ordering: each step waits, bounded, for the condition it needs. With CEPH_TRACE set, each
# step prints a time stamp (seconds since boot) on stderr.

CEPH_PYTHON=${CEPH_PYTHON:-/usr/bin/python3}  # Debian's, which has the rados module
: "${CEPH_TIMEOUT:=60}"
_ceph_pdeathsig=
command -v setpriv >/dev/null 2>&1 && _ceph_pdeathsig="setpriv --pdeathsig KILL"

ceph_available() {
	CEPH_MISSING=
	_ca_cmds="ceph-mon ceph-osd monmaptool rados ss"
	test "$1" = --rgw && _ca_cmds="$_ca_cmds radosgw radosgw-admin s3"
	for _ca_cmd in $_ca_cmds; do
		command -v "$_ca_cmd" >/dev/null 2>&1 || CEPH_MISSING="$CEPH_MISSING $_ca_cmd"
	done
	"$CEPH_PYTHON" -c 'import rados' >/dev/null 2>&1 ||
		CEPH_MISSING="$CEPH_MISSING python3-rados($CEPH_PYTHON)"
	CEPH_MISSING=${CEPH_MISSING# }
	test -z "$CEPH_MISSING"
}

ceph_require() {
	ceph_available "$@" && return 0
	if test "$CI" = true; then
		test_expect_success "Ceph is installed (CI=true requires it)" '
			echo "missing: $CEPH_MISSING (.ci/install-deps installs them)" >&2 &&
			false
		'
		test_done
	fi
	skip_all="Ceph is not installed (missing: $CEPH_MISSING)"
	test_done
}

# Starting a process can cost 30 ms: what polls uses the shell's builtins where it can.

# _ceph_alive PID: running and not a zombie (kill -0 is true for zombies).
_ceph_alive() {
	test -n "$1" && read -r _cal_stat 2>/dev/null <"/proc/$1/stat" || return 1
	_cal_stat=${_cal_stat##*) }
	test "${_cal_stat%% *}" != Z
}

# _ceph_deadline: set _ceph_end to CEPH_TIMEOUT seconds from now; _ceph_expired END: is END
# past? (Whole seconds since boot.)
_ceph_deadline() {
	read -r _cd_up _cd_idle </proc/uptime
	_ceph_end=$(( ${_cd_up%.*} + CEPH_TIMEOUT ))
}
_ceph_expired() {
	read -r _ce_up _ce_idle </proc/uptime
	test "${_ce_up%.*}" -ge "$1"
}

_ceph_trace() {
	test -n "$CEPH_TRACE" || return 0
	read -r _ct_up _ct_idle </proc/uptime
	echo "ceph: $_ct_up $*" >&2
}

# _ceph_pid NAME: the pid in CEPH_DIR/NAME.pid; fails if there is none.
_ceph_pid() {
	test -f "$CEPH_DIR/$1.pid" && read -r _cpi_pid <"$CEPH_DIR/$1.pid" && echo "$_cpi_pid"
}

# _ceph_daemon NAME CMD...: start CMD as a background job of this shell, output appended to
# CEPH_DIR/NAME.out, pid in CEPH_DIR/NAME.pid. Sharness's descriptors are closed: a daemon must
# never hold the test's output open. With util-linux's setpriv, the kernel also SIGKILLs it
# when this shell dies without running its traps (SIGKILL).
_ceph_daemon() {
	_cd_name=$1; shift
	$_ceph_pdeathsig "$@" >>"$CEPH_DIR/$_cd_name.out" 2>&1 </dev/null \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$CEPH_DIR/$_cd_name.pid"
}

# _ceph_listen_port PID: the TCP port PID listens on at 127.0.0.1, if any. ss prints lines
# like: LISTEN 0 512 127.0.0.1:PORT 0.0.0.0:* users:(("radosgw",pid=PID,fd=N))
_ceph_listen_port() {
	_clp_ss=$(ss -Hltnp 'src 127.0.0.1' 2>/dev/null)
	case "$_clp_ss" in
	*"pid=$1,"*) ;;
	*) return 0 ;;
	esac
	_clp_ss=${_clp_ss%%"pid=$1,"*}  # up to PID: PID's line is the last
	_clp_ss=${_clp_ss##*127.0.0.1:}  # from its local address
	echo "${_clp_ss%% *}"
}

# _ceph_wait_listen NAME [PORT]: wait until the daemon NAME listens (on PORT, if given), and
# print its port. Fails at once if it exits.
_ceph_wait_listen() {
	_cwl_pid=$(_ceph_pid "$1")
	_ceph_deadline
	_cwl_end=$_ceph_end
	while :; do
		_cwl_port=$(_ceph_listen_port "$_cwl_pid")
		if test -n "$_cwl_port" && { test -z "$2" || test "$_cwl_port" = "$2"; }; then
			echo "$_cwl_port"
			return 0
		fi
		if ! _ceph_alive "$_cwl_pid"; then
			echo "ceph: $1 exited (logs in $CEPH_DIR)" >&2
			return 1
		fi
		if _ceph_expired "$_cwl_end"; then
			echo "ceph: $1 is not listening after ${CEPH_TIMEOUT}s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# _ceph_wait_line NAME REGEX: wait until CEPH_DIR/NAME.out has a line matching REGEX. Fails at
# once if the process NAME exits without printing it.
_ceph_wait_line() {
	_cwn_pid=$(_ceph_pid "$1")
	_ceph_deadline
	_cwn_end=$_ceph_end
	until grep -q "$2" "$CEPH_DIR/$1.out"; do
		if ! _ceph_alive "$_cwn_pid"; then
			grep -q "$2" "$CEPH_DIR/$1.out" && return 0
			echo "ceph: $1 exited:" >&2
			cat "$CEPH_DIR/$1.out" >&2
			return 1
		fi
		if _ceph_expired "$_cwn_end"; then
			echo "ceph: $1 did not print $2 within ${CEPH_TIMEOUT}s" >&2
			return 1
		fi
		sleep 0.02
	done
}

_ceph_free_port() {
	"$CEPH_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# _ceph_write_conf FSID MON_PORT RGW_PORT
_ceph_write_conf() {
	_cwc_asok=1
	# a UNIX socket's path has at most 107 bytes; past that the daemons only warn
	test ${#CEPH_DIR} -le 90 || _cwc_asok=
	# written whole, then renamed: the OSD's mkfs may be reading it while the monitor retries
	cat >"$CEPH_DIR/ceph.conf.new" <<-EOF
	# throwaway test cluster written by cairn's t/lib/ceph.sh
	[global]
	fsid = $1
	mon_host = v2:127.0.0.1:$2
	public_addr = 127.0.0.1
	ms_bind_msgr1 = false
	auth_cluster_required = none
	auth_service_required = none
	auth_client_required = none
	keyring = /dev/null
	run_dir = $CEPH_DIR
	crash_dir = $CEPH_DIR/crash
	osd_pool_default_size = 1
	osd_pool_default_min_size = 1
	osd_pool_default_pg_num = 8
	osd_pool_default_pgp_num = 8
	osd_pool_default_pg_autoscale_mode = off
	osd_crush_chooseleaf_type = 0
	mon_allow_pool_size_one = true
	mon_allow_pool_delete = true
	mon_max_pg_per_osd = 1000
	mon_warn_on_pool_no_redundancy = false
	mon_warn_on_insecure_global_id_reclaim = false
	mon_warn_on_insecure_global_id_reclaim_allowed = false
	# no ceph-mgr runs: never warn MGR_DOWN
	mon_mgr_mkfs_grace = 315360000
	mon_data_avail_warn = 2
	mon_data_avail_crit = 1
	# else every map change (OSD id, pools, OSD boot) waits about 1 s
	paxos_propose_interval = 0.01
	# else the monitor forks a CRUSH test for each new pool, 0.1-0.3 s each
	mon_osd_crush_smoke_test = false
	ms_async_op_threads = 1
	client_mount_timeout = 30
	rados_mon_op_timeout = 30
	rados_osd_op_timeout = 30

	# admin sockets and logs in the daemons' sections: in [global], radosgw-admin and other
	# clients would collide with the daemons
	[mon]
	${_cwc_asok:+admin_socket = $CEPH_DIR/\$name.asok}
	log_file = $CEPH_DIR/\$name.log
	mon_data = $CEPH_DIR/mon.\$id
	mon_cluster_log_file = $CEPH_DIR/cluster.log
	# a port taken meanwhile fails at once (default: 3 tries 5 s apart); ceph_start retries
	ms_bind_retry_count = 1
	ms_bind_retry_delay = 0

	[osd]
	${_cwc_asok:+admin_socket = $CEPH_DIR/\$name.asok}
	log_file = $CEPH_DIR/\$name.log
	osd_data = $CEPH_DIR/osd.\$id
	osd_objectstore = memstore
	memstore_device_bytes = 1073741824
	osd_op_num_shards = 1
	osd_op_num_threads_per_shard = 2

	[client.rgw]
	${_cwc_asok:+admin_socket = $CEPH_DIR/\$name.asok}
	log_file = $CEPH_DIR/\$name.log
	# radosgw's default, secure, cannot work with auth none (EACCES)
	ms_mon_client_mode = crc
	rgw_data = $CEPH_DIR/rgw
	rgw_frontends = beast endpoint=127.0.0.1:$3
	rgw_thread_pool_size = 16
	EOF
	mv -f "$CEPH_DIR/ceph.conf.new" "$CEPH_DIR/ceph.conf"
}

# _ceph_start_mon FSID PORT: monmap, mkfs and start on PORT; if the port was taken meanwhile
# (ceph-mon then exits at once), again on another.
_ceph_start_mon() {
	_csm_port=$2
	for _csm_try in 1 2 3; do
		if test "$_csm_try" != 1; then
			_csm_port=$(_ceph_free_port) &&
			rm -rf "$CEPH_DIR/mon.a" "$CEPH_DIR/monmap" || return 1
		fi
		_ceph_write_conf "$1" "$_csm_port" 0 &&
		monmaptool --create --fsid "$1" --addv a "[v2:127.0.0.1:$_csm_port]" \
			"$CEPH_DIR/monmap" >"$CEPH_DIR/mon.a.mkfs.out" 2>&1 &&
		ceph-mon -c "$CEPH_CONF" --mkfs -i a --monmap "$CEPH_DIR/monmap" \
			>>"$CEPH_DIR/mon.a.mkfs.out" 2>&1 || {
			echo "ceph: ceph-mon --mkfs failed:" >&2
			cat "$CEPH_DIR/mon.a.mkfs.out" >&2
			return 1
		}
		_ceph_trace "mon: made"
		_ceph_daemon mon ceph-mon -f -c "$CEPH_CONF" -i a
		if _ceph_wait_listen mon "$_csm_port" >/dev/null 2>"$CEPH_DIR/mon.wait"; then
			_ceph_trace "mon: listening on $_csm_port"
			return 0
		fi
		_ceph_alive "$(_ceph_pid mon)" && break  # alive but not listening: give up
		grep -q "Address already in use" "$CEPH_DIR/mon.a.log" || break
		echo "ceph: monitor port $_csm_port was taken, trying another" >&2
		mv "$CEPH_DIR/mon.a.log" "$CEPH_DIR/mon.a.log.try$_csm_try"
		_ceph_stop_daemon mon
	done
	cat "$CEPH_DIR/mon.wait" >&2
	return 1
}

# The setup session, a librados client started first (a `ceph` command would cost about 1 s
# each). It says "port N" (a free port for the monitor), imports rados meanwhile, waits for
# CEPH_DIR/mon.ready, allocates the OSD id and says "osd ID"; creates the pools (radosgw's
# too, so that it need not) concurrently so that the monitor commits them together, and says
# "pools"; waits until the OSD is up (pid file CEPH_DIR/osd.pid) and says "up"; writes and
# reads back a probe object (the OSD holds operations until its PGs peer), and says "ready".
# It polls the map rather than retrying a write: an operation sent while no OSD is up waits
# for the client's next tick, 5 s later (radosgw too, hence it starts only once the OSD is up).
_ceph_setup_py='import json, os, socket, sys, threading, time
conf, uuid, pool, timeout, rgw, cephdir = sys.argv[1:7]
timeout = int(timeout)
end = time.time() + timeout
def say(*words):
    print(*words, flush=True)
s = socket.socket()
s.bind(("127.0.0.1", 0))
say("port", s.getsockname()[1])
s.close()
import rados
class Failed(Exception):
    pass
def alive(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
while not os.path.exists(cephdir + "/mon.ready"):
    if time.time() > end:
        sys.exit("ceph: no monitor after %ds" % timeout)
    time.sleep(0.01)
c = rados.Rados(conffile=conf)
c.connect(timeout=timeout)
def cmd(**kw):
    r, out, err = c.mon_command(json.dumps(kw), b"", timeout=timeout)
    if r < 0:
        raise Failed("%s: %s (%d)" % (kw["prefix"], err, r))
    return out
say("osd", json.loads(cmd(prefix="osd new", uuid=uuid, format="json"))["osdid"])
pools = [(pool, "rados")]
if rgw == "rgw":
    pools += [("default.rgw." + p, "rgw") for p in
              ("control", "meta", "log", "buckets.index", "buckets.data", "buckets.non-ec")]
    pools.append((".rgw.root", "rgw"))
errors = []
def create(name, app):
    try:
        cmd(prefix="osd pool create", pool=name, pg_num=8, pgp_num=8)
        cmd(prefix="osd pool application enable", pool=name, app=app)
    except Exception as e:
        errors.append(str(e))
threads = [threading.Thread(target=create, args=p) for p in pools]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit("ceph: " + "; ".join(errors))
say("pools")
while True:
    try:
        with open(cephdir + "/osd.pid") as f:
            pid = f.read().strip()
    except OSError:
        pid = ""
    if pid:
        if json.loads(cmd(prefix="osd stat", format="json"))["num_up_osds"] >= 1:
            break
        if not alive(pid):
            sys.exit("ceph: ceph-osd exited")
    if time.time() > end:
        sys.exit("ceph: the OSD is not up after %ds" % timeout)
    time.sleep(0.02)
say("up")
io = c.open_ioctx(pool)
io.write_full("ceph.sh-probe", b"probe")
if io.read("ceph.sh-probe") != b"probe":
    sys.exit("ceph: the probe object reads back wrong")
io.remove_object("ceph.sh-probe")
c.shutdown()
say("ready")
'

# _ceph_start_cluster [--rgw]: the monitor, the OSD and the pools; with --rgw radosgw is
# launched too, but not waited for. The OSD's store needs no monitor, so it is made while the
# monitor starts; the OSD starts as soon as its id exists, radosgw as soon as the OSD is up.
_ceph_start_cluster() {
	read -r _csc_fsid </proc/sys/kernel/random/uuid
	read -r _csc_uuid </proc/sys/kernel/random/uuid
	_ceph_daemon setup "$CEPH_PYTHON" -c "$_ceph_setup_py" "$CEPH_CONF" "$_csc_uuid" \
		"$CEPH_POOL" "$CEPH_TIMEOUT" "${1:+rgw}" "$CEPH_DIR"
	_ceph_write_conf "$_csc_fsid" 0 0 &&
	mkdir -p "$CEPH_DIR/osd.0" || return 1
	# the first OSD of a new cluster is osd.0
	_ceph_daemon osd.mkfs ceph-osd -c "$CEPH_CONF" -i 0 --mkfs --osd-uuid "$_csc_uuid" \
		--no-mon-config
	_ceph_wait_line setup "^port " || return 1
	while read -r _csc_word _csc_value; do
		test "$_csc_word" = port && _csc_port=$_csc_value
	done <"$CEPH_DIR/setup.out"
	_ceph_start_mon "$_csc_fsid" "$_csc_port" &&
	: >"$CEPH_DIR/mon.ready" &&
	_ceph_wait_line setup "^osd " || return 1
	if ! grep -q "^osd 0$" "$CEPH_DIR/setup.out"; then
		echo "ceph: the new OSD is not osd.0:" >&2
		cat "$CEPH_DIR/setup.out" >&2
		return 1
	fi
	_ceph_trace "setup: osd.0 made"
	wait "$(_ceph_pid osd.mkfs)" || {
		echo "ceph: ceph-osd --mkfs failed:" >&2
		cat "$CEPH_DIR/osd.mkfs.out" >&2
		return 1
	}
	rm -f "$CEPH_DIR/osd.mkfs.pid"
	_ceph_daemon osd ceph-osd -f -c "$CEPH_CONF" -i 0
	_ceph_trace "osd: started"
	if test -n "$1"; then
		_ceph_wait_line setup "^up$" || return 1
		_ceph_trace "setup: the OSD is up"
		CEPH_RGW_PORT=0
		_ceph_rgw_launch || return 1
	fi
	_ceph_wait_line setup "^ready$" &&
	wait "$(_ceph_pid setup)" &&
	rm -f "$CEPH_DIR/setup.pid" &&
	_ceph_trace "setup: ready"
}

# _ceph_rgw_launch: start radosgw on CEPH_RGW_PORT (0 the first time: it picks a free port).
_ceph_rgw_launch() {
	sed -i "s/^\(rgw_frontends = beast endpoint=127\.0\.0\.1:\).*/\1$CEPH_RGW_PORT/" \
		"$CEPH_CONF" &&
	mkdir -p "$CEPH_DIR/rgw" &&
	_ceph_daemon rgw radosgw -f -c "$CEPH_CONF" -n client.rgw
}

# _ceph_rgw_wait: wait until radosgw listens (on CEPH_RGW_PORT unless that is 0) and set
# CEPH_RGW_PORT to its port.
_ceph_rgw_wait() {
	_crw_want=$CEPH_RGW_PORT
	test "$_crw_want" != 0 || _crw_want=
	_crw_port=$(_ceph_wait_listen rgw "$_crw_want") &&
	test -n "$_crw_port" &&
	CEPH_RGW_PORT=$_crw_port
}

_ceph_random() {  # _ceph_random LENGTH CHARS
	tr -dc "$2" </dev/urandom 2>/dev/null | head -c "$1"
}

# _ceph_start_rgw: once radosgw listens, the S3 user, its credentials file and the bucket.
_ceph_start_rgw() {
	_ceph_rgw_wait || return 1
	_ceph_trace "rgw: listening on $CEPH_RGW_PORT"
	# the port it took, for rgw_start and for whoever reads ceph.conf
	sed -i "s/^\(rgw_frontends = beast endpoint=127\.0\.0\.1:\).*/\1$CEPH_RGW_PORT/" \
		"$CEPH_CONF"
	_csr_access=$(_ceph_random 20 A-Z0-9)
	_csr_secret=$(_ceph_random 40 A-Za-z0-9)
	radosgw-admin -c "$CEPH_CONF" user create --uid=cairn-test \
		--display-name=cairn-test --access-key="$_csr_access" --secret="$_csr_secret" \
		>"$CEPH_DIR/rgw-user.json" 2>"$CEPH_DIR/rgw-user.err" || {
		echo "ceph: radosgw-admin user create failed:" >&2
		cat "$CEPH_DIR/rgw-user.err" >&2
		return 1
	}
	_ceph_trace "rgw: user made"
	printf 'access_key=%s\nsecret_key=%s\n' "$_csr_access" "$_csr_secret" \
		>"$CEPH_DIR/s3-credentials"
	S3_ENDPOINT=127.0.0.1:$CEPH_RGW_PORT
	S3_CREDENTIALS=$CEPH_DIR/s3-credentials
	S3_BUCKET=cairn-test
	export S3_ENDPOINT S3_CREDENTIALS S3_BUCKET
	rgw_s3 create "$S3_BUCKET" >"$CEPH_DIR/s3-create.out" 2>&1 || {
		echo "ceph: creating bucket $S3_BUCKET failed:" >&2
		cat "$CEPH_DIR/s3-create.out" >&2
		return 1
	}
}

# libs3's s3 exits 0 even when the request fails; it then prints "ERROR: ..." on stderr, so
# rgw_s3 fails when that line is there.
rgw_s3() {
	_rs_access=
	_rs_secret=
	while IFS='=' read -r _rs_key _rs_value; do
		case "$_rs_key" in
		access_key) _rs_access=$_rs_value ;;
		secret_key) _rs_secret=$_rs_value ;;
		esac
	done <"$S3_CREDENTIALS"
	_rs_err=$(mktemp "$CEPH_DIR/rgw_s3.XXXXXX") || return 1
	S3_ACCESS_KEY_ID=$_rs_access S3_SECRET_ACCESS_KEY=$_rs_secret S3_HOSTNAME=$S3_ENDPOINT \
		s3 -u "$@" 2>"$_rs_err"
	_rs_rc=$?
	cat "$_rs_err" >&2
	grep -q "^ERROR: " "$_rs_err" && _rs_rc=1
	rm -f "$_rs_err"
	return $_rs_rc
}

_ceph_on_exit() {
	_coe_rc=$?
	ceph_stop >/dev/null 2>&1
	(exit $_coe_rc)
	die  # sharness's EXIT trap
}

_ceph_logs() {  # the last lines of each log, for a failed start
	for _cl_f in "$CEPH_DIR"/*.log "$CEPH_DIR"/*.out; do
		test -f "$_cl_f" || continue
		echo "ceph: --- last lines of $_cl_f" >&2
		tail -n 15 "$_cl_f" >&2
	done
}

ceph_start() {
	_cs_rgw=
	case "$*" in
	"") ;;
	--rgw) _cs_rgw=--rgw ;;
	*) echo "usage: ceph_start [--rgw]" >&2; return 2 ;;
	esac
	if test -n "$CEPH_DIR" && test -n "$(ceph_pids)"; then
		echo "ceph_start: a cluster already runs in $CEPH_DIR" >&2
		return 1
	fi
	CEPH_DIR=$(mktemp -d "${SHARNESS_TRASH_DIRECTORY:-$PWD}/ceph.XXXXXX") || return 1
	CEPH_CONF=$CEPH_DIR/ceph.conf
	CEPH_POOL=cairn-test
	export CEPH_DIR CEPH_CONF CEPH_POOL
	unset S3_ENDPOINT S3_BUCKET S3_CREDENTIALS
	if test -z "$_ceph_traps"; then
		trap _ceph_on_exit EXIT
		trap 'exit 129' HUP
		trap 'exit 130' INT
		trap 'exit 131' QUIT
		trap 'exit 141' PIPE
		trap 'exit 143' TERM
		cleanup ceph_stop
		_ceph_traps=t
	fi
	_ceph_trace "start: $CEPH_DIR"
	if _ceph_start_cluster $_cs_rgw && { test -z "$_cs_rgw" || _ceph_start_rgw; }; then
		_ceph_trace "start: done"
		return 0
	fi
	echo "ceph_start: failed; logs in $CEPH_DIR" >&2
	_ceph_logs
	ceph_stop
	return 1
}

# _ceph_stop_daemon NAME: resume, TERM, wait up to 10 s, KILL; reap it; forget its pid.
_ceph_stop_daemon() {
	_csd_pid=$(_ceph_pid "$1") || return 0
	if _ceph_alive "$_csd_pid"; then
		kill -CONT "$_csd_pid" 2>/dev/null
		kill -TERM "$_csd_pid" 2>/dev/null
		_csd_n=0
		while _ceph_alive "$_csd_pid" && test $_csd_n -lt 500; do
			sleep 0.02
			_csd_n=$((_csd_n + 1))
		done
		if _ceph_alive "$_csd_pid"; then
			echo "ceph: $1 ignored SIGTERM for 10 s, killing it" >&2
			kill -KILL "$_csd_pid" 2>/dev/null
			_csd_n=0
			while _ceph_alive "$_csd_pid" && test $_csd_n -lt 500; do
				sleep 0.02
				_csd_n=$((_csd_n + 1))
			done
		fi
	fi
	wait "$_csd_pid" 2>/dev/null  # reap it if it is this shell's child
	rm -f "$CEPH_DIR/$1.pid"
	_ceph_trace "stop: $1 gone"
}

# Order matters: radosgw needs the OSD to exit cleanly (else it hangs until killed), and an
# OSD waits up to 5 s for the monitor to acknowledge its shutdown.
ceph_stop() {
	test -n "$CEPH_DIR" || return 0
	_ceph_trace "stop: $CEPH_DIR"
	_ceph_stop_daemon setup
	_ceph_stop_daemon rgw
	_ceph_stop_daemon osd.mkfs
	_ceph_stop_daemon osd
	_ceph_stop_daemon mon
	return 0
}

_ceph_signal() {  # _ceph_signal NAME SIG
	_csg_pid=$(_ceph_pid "$1") && _ceph_alive "$_csg_pid" || {
		echo "ceph: $1 is not running" >&2
		return 1
	}
	kill -s "$2" "$_csg_pid"
}

ceph_pause_osd() { _ceph_signal osd STOP; }
ceph_resume_osd() { _ceph_signal osd CONT; }
rgw_pause() { _ceph_signal rgw STOP; }
rgw_resume() { _ceph_signal rgw CONT; }
rgw_stop() { _ceph_stop_daemon rgw; }
rgw_start() {
	if _ceph_pid rgw >/dev/null; then
		echo "rgw_start: radosgw already runs" >&2
		return 1
	fi
	mv -f "$CEPH_DIR/client.rgw.log" "$CEPH_DIR/client.rgw.log.old" 2>/dev/null
	_ceph_rgw_launch && _ceph_rgw_wait || {
		_ceph_logs
		_ceph_stop_daemon rgw
		return 1
	}
}

ceph_pids() {
	test -n "$CEPH_DIR" || return 0
	for _cp_f in $(grep -laF "$CEPH_DIR/ceph.conf" /proc/[0-9]*/cmdline 2>/dev/null); do
		_cp_pid=${_cp_f#/proc/}
		_cp_pid=${_cp_pid%/cmdline}
		_ceph_alive "$_cp_pid" && echo "$_cp_pid"
	done
	return 0
}
