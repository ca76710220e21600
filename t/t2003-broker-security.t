#!/bin/sh
test_description='tcp:// brokers: CURVE certificates, allowed clients, refusals logged'
. "$(dirname "$0")/lib/sharness-cairn.sh"
. "$CAIRN_SRCDIR/t/lib/broker.sh"

test_expect_success 'make certificates for the broker and two clients' '
	cairn keygen server.cert >server.key &&
	cairn keygen friend.cert >friend.key &&
	cairn keygen stranger.cert >stranger.key &&
	test -s server.cert_secret &&
	test "$(wc -c <friend.key)" -eq 41
'
test_expect_success 'a tcp:// broker admits a listed client' '
	cat >curve.toml <<-EOT &&
	[security]
	curve-cert = "$(pwd)/server.cert_secret"
	allowed-clients = ["$(cat friend.key)"]
	EOT
	broker_start b --config curve.toml --listen "tcp://127.0.0.1:*" &&
	grep "^tcp://127.0.0.1:[0-9][0-9]*$" b.uri &&
	CAIRN_URI=$(broker_uri b) CAIRN_SERVER_KEY=$(cat server.key) \
		CAIRN_CLIENT_CERT=friend.cert_secret cairn ping >out &&
	grep "^broker.ping: time=" out
'
test_expect_success 'its stderr hint names the server key, shell-quoted' '
	sq=$(printf "\047") &&
	grep -F "CAIRN_SERVER_KEY=$sq$(cat server.key)$sq " b.err
'
test_expect_success 'the hint, pasted into a shell with a client cert, runs cairn ping' '
	sed -n "s/^cairn: broker up at .*; try: //p" b.err >hint &&
	test "$(wc -l <hint)" -eq 1 &&
	sed "s|<your cert>|friend.cert_secret|" hint >try.sh &&
	sh try.sh >out &&
	grep "^broker.ping: time=" out
'
test_expect_success 'a client whose key is not listed gets no answer' '
	test_must_fail env CAIRN_URI=$(broker_uri b) CAIRN_SERVER_KEY=$(cat server.key) \
		CAIRN_CLIENT_CERT=stranger.cert_secret CAIRN_RPC_TIMEOUT=1 cairn ping 2>err &&
	grep "no answer from the broker" err
'
test_expect_success 'the refusal is logged on stderr and in dmesg, naming the key' '
	wait_for 10 grep -F "refused CURVE client $(cat stranger.key): not in security.allowed-clients" b.err &&
	CAIRN_URI=$(broker_uri b) CAIRN_SERVER_KEY=$(cat server.key) \
		CAIRN_CLIENT_CERT=friend.cert_secret cairn dmesg >out &&
	grep -F "warning: refused CURVE client $(cat stranger.key)" out
'
test_expect_success 'stop the tcp:// broker' '
	broker_signal b TERM &&
	broker_wait b &&
	echo 0 >expect &&
	test_cmp expect b.status
'
test_expect_success 'the initial program of a tcp:// broker gets CAIRN_URI and CAIRN_SERVER_KEY' '
	cairn start --config curve.toml --listen "tcp://127.0.0.1:*" \
		"echo \"\$CAIRN_URI \$CAIRN_SERVER_KEY\" >env; CAIRN_CLIENT_CERT=friend.cert_secret cairn ping" &&
	grep "^tcp://127.0.0.1:[0-9][0-9]* " env &&
	grep -F " $(cat server.key)" env
'
test_expect_success 'a public certificate with no secret one beside it is refused' '
	mkdir -p public &&
	cp server.cert public/ &&
	test_expect_code 1 cairn start --listen "tcp://127.0.0.1:*" \
		-o security.curve-cert=public/server.cert true 2>err &&
	grep "^cairn: config: security.curve-cert: .public/server.cert. holds no secret key" err
'
test_expect_success 'a missing certificate is refused, naming the key' '
	test_expect_code 1 cairn start --listen "tcp://127.0.0.1:*" \
		-o security.curve-cert=no-such-cert true 2>err &&
	grep "^cairn: config: security.curve-cert: cannot load the certificate .no-such-cert." err
'
test_expect_success 'a malformed allowed-clients key is refused' '
	test_expect_code 2 cairn start -o "security.allowed-clients=[\"not-a-key\"]" true 2>err &&
	grep "^cairn: start: --option: security.allowed-clients: .not-a-key. is not a public key" err
'
test_expect_success 'an empty allowed-clients list is warned about' '
	cairn start --listen "tcp://127.0.0.1:*" -o security.curve-cert=server.cert_secret \
		true 2>err &&
	grep "^cairn-broker: security.allowed-clients and security.user-clients are empty: every CURVE client will be refused" err
'
test_done
