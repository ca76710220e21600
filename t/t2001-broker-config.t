#!/bin/sh
test_description='cairn start: configuration file and -o KEY=VALUE, errors naming the key'
. "$(dirname "$0")/lib/sharness-cairn.sh"

test_expect_success 'the example etc/cairn.toml is accepted' '
	cairn start --config "$CAIRN_SRCDIR/etc/cairn.toml" true
'
test_expect_success 'the example with every key uncommented is accepted' '
	sed "s/^#\([a-z-]* = \)/\1/" "$CAIRN_SRCDIR/etc/cairn.toml" >all.toml &&
	grep "^hash = \"sha1\"" all.toml &&
	cairn start --config all.toml true
'
test_expect_success 'a valid file and -o options are accepted' '
	cat >good.toml <<-\EOT &&
	[heartbeat]
	period = 0.5
	[content]
	hash = "sha256"
	EOT
	cairn start --config good.toml -o stats.period=0 -o content.backing=none true
'
test_expect_success 'an unknown key in the file stops start-up, naming the key' '
	printf "[stats]\nperiood = 1\n" >unknown.toml &&
	test_expect_code 1 cairn start --config unknown.toml true 2>err &&
	grep "^cairn: config: stats.periood: unknown key" err
'
test_expect_success 'an unknown -o key is a usage error (exit 2), naming the key' '
	test_expect_code 2 cairn start -o content.nosuch=1 true 2>err &&
	grep "^cairn: start: --option: content.nosuch: unknown key" err
'
test_expect_success 'a value of the wrong type stops start-up' '
	printf "[heartbeat]\nperiod = \"often\"\n" >type.toml &&
	test_expect_code 1 cairn start --config type.toml true 2>err &&
	grep "^cairn: config: heartbeat.period: expected a number, got a string" err
'
test_expect_success 'a -o value out of range is a usage error (exit 2)' '
	test_expect_code 2 cairn start -o stats.max-packet=10 true 2>err &&
	grep "^cairn: start: --option: stats.max-packet: 10 is out of range" err &&
	test_expect_code 2 cairn start -o heartbeat.period=0 true 2>err &&
	grep "^cairn: start: --option: heartbeat.period: 0 is out of range" err &&
	test_expect_code 2 cairn start -o heartbeat.period=1e-9 true 2>err &&
	grep "^cairn: start: --option: heartbeat.period: 1e-09 is out of range: expected from 0.01 to 86400 (see cairn start --help)$" err &&
	test_expect_code 2 cairn start -o content.hash=md5 true 2>err &&
	grep "^cairn: start: --option: content.hash: .md5. is not allowed: expected sha1 or sha256" err
'
test_expect_success 'a value out of range in the file stops start-up (exit 1)' '
	printf "[heartbeat]\nperiod = 0\n" >range.toml &&
	test_expect_code 1 cairn start --config range.toml true 2>err &&
	grep "^cairn: config: heartbeat.period: 0 is out of range" err
'
test_expect_success '-o is applied after the file' '
	printf "[content]\nhash = \"sha256\"\n" >hash.toml &&
	cairn start --config hash.toml -o content.hash=sha1 \
		"cairn content store </dev/null" >ref &&
	grep "^sha1-" ref
'
test_expect_success 'a missing file stops start-up, naming the file' '
	test_expect_code 1 cairn start --config no-such.toml true 2>err &&
	grep "^cairn: config: no-such.toml: cannot read the file: No such file or directory" err
'
test_expect_success 'a directory given as --config stops start-up' '
	mkdir confdir &&
	test_expect_code 1 cairn start --config confdir true 2>err &&
	grep "^cairn: config: confdir: is a directory: give the path of a TOML file" err
'
test_expect_success 'an unparsable file stops start-up with file and line' '
	printf "[stats]\nperiod = = 1\n" >bad.toml &&
	test_expect_code 1 cairn start --config bad.toml true 2>err &&
	grep "^cairn: config: bad.toml:2:.*not valid TOML" err
'
test_expect_success '-o without = is a usage error (exit 2) that shows the form' '
	test_expect_code 2 cairn start -o heartbeat.period true 2>err &&
	echo "cairn: start: --option: '\''heartbeat.period'\'' is not KEY=VALUE (e.g. -o heartbeat.period=2) (see cairn start --help)" >expected &&
	test_cmp expected err &&
	test_expect_code 2 cairn start -o =2 true 2>err &&
	grep "^cairn: start: --option: .=2. is not KEY=VALUE" err
'
test_expect_success 'a config error does not run the initial program' '
	test_expect_code 2 cairn start -o nosuch=1 touch ran &&
	test_expect_code 1 cairn start --config unknown.toml touch ran &&
	! test -e ran
'
test_done
