#!/bin/sh
test_description='cairn start --help-config lists the declared keys, and cairn.toml(5) and
etc/cairn.toml document exactly those keys'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# Key names: --help-config starts each key paragraph with the name at column 0; the man page
# tags each key ".BR name \" (type, default ...)\""; the example config has "[table]" headers
# and "#key = default" lines.
help_keys() {
	cairn start --help-config | sed -n "s/^\([a-z][a-z0-9.-]*\) (.*/\1/p" | sort
}
man_keys() {
	sed -n 's/^\.BR \([a-z][^ ]*\) " (.*/\1/p' "$CAIRN_BUILDDIR/doc/man5/cairn.toml.5" |
		sed 's/\\-/-/g' | sort
}
example_keys() {
	awk '/^\[[a-z][a-z0-9-]*\]$/ { table = substr($0, 2, length($0) - 2) }
		/^#[a-z][a-z0-9-]* = / { sub(/^#/, ""); print table "." $1 }' \
		"$CAIRN_SRCDIR/etc/cairn.toml" | sort
}

test_expect_success '--help-config prints every key with its type, default and meaning' '
	cairn start --help-config >help.out &&
	grep "^content.hash (string: sha1 or sha256; default \"sha1\")$" help.out &&
	grep "^heartbeat.period (number, 0.01 to 86400; default 2.0)$" help.out &&
	grep "^content.backing (string: sqlite or none" help.out &&
	grep "^job-manager.plugins (array of strings; default \[\])$" help.out &&
	help_keys >keys &&
	test $(wc -l <keys) -ge 14 &&
	test $(grep -c "^    [a-zA-Z]" help.out) -eq $(wc -l <keys)
'
test_expect_success 'every key --help-config lists is accepted by -o with its default' '
	cairn start --help-config | sed -n "s/^\([a-z][a-z0-9.-]*\) (.*; default \(.*\))$/\1=\2/p" \
		>defaults &&
	test $(wc -l <defaults) -eq $(help_keys | wc -l) &&
	set -- &&
	while read -r kv; do
		case "$kv" in *\$CAIRN_STATSD* | *"<rank>"*) continue ;; esac
		set -- "$@" -o "$kv"
	done <defaults &&
	cairn start "$@" true
'
test_expect_success 'cairn.toml(5) documents exactly the declared keys' '
	help_keys >declared &&
	man_keys >documented &&
	test_cmp declared documented
'
test_expect_success 'etc/cairn.toml shows exactly the declared keys' '
	help_keys >declared &&
	example_keys >shown &&
	test_cmp declared shown
'
test_expect_success 'an unknown key points at --help-config' '
	test_must_fail cairn start -o content.nosuch=1 true 2>err &&
	grep "cairn: start: --option: content.nosuch: unknown key" err &&
	grep -- "--help-config" err
'
test_done
