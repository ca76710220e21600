#!/bin/sh
test_description='cairn keygen and CURVE on tcp://: allowed clients talk, others get nothing'
. "$(dirname "$0")/lib/sharness-cairn.sh"

test_expect_success 'cairn keygen writes a czmq certificate pair and prints the public key' '
	cairn keygen server.cert >server.key &&
	test $(wc -c <server.key) -eq 41 &&
	grep -F "public-key = \"$(cat server.key)\"" server.cert &&
	grep "secret-key = " server.cert_secret &&
	! grep "secret-key" server.cert &&
	test "$(stat -c %a server.cert_secret)" = 600
'
test_expect_success 'cairn keygen refuses to overwrite without --force' '
	test_expect_code 1 cairn keygen server.cert 2>err &&
	grep "^cairn: server.cert: file exists: use --force to overwrite it$" err &&
	grep -F "public-key = \"$(cat server.key)\"" server.cert &&
	: >only-secret_secret &&
	test_expect_code 1 cairn keygen only-secret 2>err2 &&
	grep "^cairn: only-secret_secret: file exists" err2
'
test_expect_success 'cairn keygen --force writes a new pair' '
	cairn keygen other.cert >other.key &&
	cairn keygen --force other.cert >other2.key &&
	! test_cmp other.key other2.key &&
	grep -F "public-key = \"$(cat other2.key)\"" other.cert &&
	test "$(stat -c %a other.cert_secret)" = 600
'
test_expect_success 'cairn keygen into a missing directory says why' '
	test_expect_code 1 cairn keygen no/such/dir/x 2>err &&
	grep "^cairn: no/such/dir/x_secret: cannot write the certificate: No such file or directory$" err
'
test_expect_success 'certificates for the client and the broker config' '
	cairn keygen client.cert >client.key &&
	cat >curve.toml <<-EOF
	[security]
	curve-cert = "server.cert_secret"
	allowed-clients = [ "$(cat client.key)" ]
	EOF
'
test_expect_success 'a tcp:// broker without security.curve-cert does not start' '
	test_must_fail cairn start --listen "tcp://127.0.0.1:*" true 2>err &&
	grep "security.curve-cert" err
'
test_expect_success 'the allowed client pings over tcp:// with CURVE' '
	CAIRN_CLIENT_CERT=client.cert_secret \
		cairn start --config curve.toml --listen "tcp://127.0.0.1:*" \
		sh -c "echo \$CAIRN_URI \$CAIRN_SERVER_KEY >env.out && cairn ping --count 2" >ping.out &&
	test $(grep -c "^broker.ping: time=" ping.out) -eq 2 &&
	grep -E "^tcp://127\.0\.0\.1:[0-9]+ " env.out &&
	test "$(cut -d" " -f2 env.out)" = "$(cat server.key)"
'
test_expect_success 'a user key stores and loads blobs but may not run jobs or load plugins' '
	cairn keygen reader.cert >reader.key &&
	cat >roles.toml <<-EOF &&
	[security]
	curve-cert = "server.cert_secret"
	allowed-clients = [ "$(cat client.key)" ]
	user-clients = [ "$(cat reader.key)" ]
	EOF
	echo "shared blob" >blob &&
	cat >as-user.sh <<-\EOF &&
	export CAIRN_CLIENT_CERT=reader.cert_secret
	ref=$(cairn content store <blob) || exit 1
	cairn content load "$ref" >loaded || exit 1
	cairn content stats >stats.json || exit 1
	cairn run true 2>run.err; echo $? >run.rc
	cairn jobtap load "$PLUGIN" 2>jobtap.err; echo $? >jobtap.rc
	CAIRN_CLIENT_CERT=client.cert_secret cairn run true
	EOF
	PLUGIN=$CAIRN_BUILDDIR/src/modules/job-manager/plugins/.libs/job-stats.so \
		cairn start --config roles.toml --listen "tcp://127.0.0.1:*" sh ./as-user.sh &&
	test_cmp blob loaded &&
	jq -e ".count == 1" stats.json &&
	test "$(cat run.rc)" -ne 0 &&
	grep "permission denied: this client.s key is in security.user-clients" run.err &&
	test "$(cat jobtap.rc)" -ne 0 &&
	grep "^cairn: .*jobtap.load: permission denied" jobtap.err
'
test_expect_success 'a client whose key is not allowed gets no answer; the refusal is logged' '
	cat >refused.sh <<-EOF &&
	CAIRN_CLIENT_CERT=other.cert_secret CAIRN_RPC_TIMEOUT=2 cairn ping 2>refused.err
	echo \$? >refused.rc
	# wait (bounded) for the refusal to show in the log, as the allowed client sees it
	i=0
	while :; do
		CAIRN_CLIENT_CERT=client.cert_secret cairn dmesg >refused-dmesg.out || exit 1
		grep -q "refused CURVE client" refused-dmesg.out && exit 0
		i=\$((i + 1)); test \$i -lt 100 || exit 1
		sleep 0.1
	done
	EOF
	cairn start --config curve.toml --listen "tcp://127.0.0.1:*" sh ./refused.sh 2>broker.err &&
	test "$(cat refused.rc)" -ne 0 &&
	grep "^cairn: broker.ping: no answer from the broker within 2 s (is it running? for tcp://, is your key allowed?); wait longer with CAIRN_RPC_TIMEOUT=SECONDS or .cairn --timeout SECONDS.$" refused.err &&
	grep -F "warning: refused CURVE client $(cat other2.key)" refused-dmesg.out &&
	grep -F "refused CURVE client $(cat other2.key)" broker.err
'
test_expect_success 'a wrong CAIRN_SERVER_KEY gets no answer either' '
	test_must_fail cairn start --config curve.toml --listen "tcp://127.0.0.1:*" \
		env CAIRN_CLIENT_CERT=client.cert_secret CAIRN_SERVER_KEY="$(cat other2.key)" \
		CAIRN_RPC_TIMEOUT=1 cairn ping 2>err &&
	grep "^cairn: broker.ping: no answer from the broker within 1 s" err
'
test_expect_success 'tcp:// without CAIRN_CLIENT_CERT names the variable' '
	test_must_fail cairn start --config curve.toml --listen "tcp://127.0.0.1:*" \
		cairn ping 2>err &&
	grep "^cairn: CAIRN_CLIENT_CERT is not set: a tcp:// URI needs CURVE" err
'
test_expect_success 'a bad CAIRN_SERVER_KEY is named' '
	test_must_fail env CAIRN_URI=tcp://127.0.0.1:1 CAIRN_CLIENT_CERT=client.cert_secret \
		CAIRN_SERVER_KEY=not-a-key cairn ping 2>err &&
	grep "^cairn: CAIRN_SERVER_KEY: .not-a-key. is not a 40-character Z85 public key" err
'
test_expect_success 'a public certificate (no secret key) as CAIRN_CLIENT_CERT is refused' '
	grep -v secret-key client.cert >public-only.cert &&
	test_must_fail env CAIRN_URI=tcp://127.0.0.1:1 CAIRN_CLIENT_CERT=public-only.cert \
		CAIRN_SERVER_KEY="$(cat server.key)" cairn ping 2>err &&
	grep "^cairn: CAIRN_CLIENT_CERT: .public-only.cert. holds no secret key" err
'
test_done
