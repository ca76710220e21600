#!/bin/sh
test_description='bash completion of cairn (etc/cairn.bash): subcommands, options, config keys'
. "$(dirname "$0")/lib/sharness-cairn.sh"

if ! command -v bash >/dev/null 2>&1; then
	skip_all="bash not found: nothing to complete in (install the Debian package bash)"
	test_done
fi

# complete WORDS...: the completions bash offers for the command line WORDS, the last word
# being the one completed (give "" to complete a new word), one per line, sorted.
complete() {
	bash -c '
		. "$CAIRN_SRCDIR/etc/cairn.bash" || exit 1
		complete -p cairn >/dev/null || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_cairn
		printf "%s\n" "${COMPREPLY[@]}"
	' complete "$@" | sort
}

test_expect_success 'sourcing it registers _cairn for cairn' '
	bash -c ". \"$CAIRN_SRCDIR/etc/cairn.bash\" && complete -p cairn" >out &&
	grep "complete -F _cairn cairn" out
'
test_expect_success 'the first word completes to subcommands' '
	complete cairn con >out &&
	echo content >expected &&
	test_cmp expected out &&
	complete cairn j >out &&
	printf "job\njobs\njobtap\n" >expected &&
	test_cmp expected out
'
test_expect_success 'subcommands of a group' '
	complete cairn content "" >out &&
	printf "%s\n" --help dropcache flush load missing stats store >expected &&
	test_cmp expected out &&
	complete cairn stats l >out &&
	echo listen >expected &&
	test_cmp expected out
'
test_expect_success 'cairn top and its options; nothing after --interval' '
	complete cairn to >out &&
	echo top >expected &&
	test_cmp expected out &&
	complete cairn top --i >out &&
	echo --interval >expected &&
	test_cmp expected out &&
	complete cairn top --interval "" >out &&
	! grep . out
'
test_expect_success 'options of cairn start' '
	complete cairn start --st >out &&
	echo --statedir >expected &&
	test_cmp expected out
'
test_expect_success 'cairn start -o completes the keys cairn start --help-config declares' '
	complete cairn start -o stats.p >out &&
	printf "stats.period=\nstats.prefix=\n" >expected &&
	test_cmp expected out &&
	complete cairn start -o broker.socket >out &&
	printf "broker.socket-group=\nbroker.socket-mode=\n" >expected &&
	test_cmp expected out
'
test_expect_success '--statedir completes directories' '
	mkdir -p somedir &&
	: >somefile &&
	complete cairn start --statedir some >out &&
	echo somedir >expected &&
	test_cmp expected out
'
test_expect_success 'cairn --uri and --timeout: offered first, their values skipped' '
	complete cairn --t >out &&
	echo --timeout >expected &&
	test_cmp expected out &&
	complete cairn --timeout "" >out &&
	! grep . out &&
	complete cairn --uri "tcp://h:1" --timeout 5 con >out &&
	echo content >expected &&
	test_cmp expected out &&
	complete cairn --uri x content "" >out &&
	printf "%s\n" --help dropcache flush load missing stats store >expected &&
	test_cmp expected out
'
test_expect_success 'cairn jobtap remove offers all' '
	complete cairn jobtap remove "" >out &&
	echo all >expected &&
	test_cmp expected out
'
test_done
