#!/bin/sh
test_description='jobs: cairn submit, run, jobs and job wait; exit codes; captured output'
. "$(dirname "$0")/lib/sharness-cairn.sh"

test_expect_success 'cairn run true exits 0' '
	cairn start cairn run true
'
test_expect_success 'cairn run exits with the job exit status' '
	test_expect_code 3 cairn start cairn run sh -c "exit 3"
'
test_expect_success 'a command that is not found exits 127 with a clear error' '
	test_expect_code 127 cairn start cairn run cairn-no-such-command-xyz 2>err &&
	grep "cairn: cairn-no-such-command-xyz: command not found" err
'
test_expect_success 'a file that is not executable exits 126 with a clear error' '
	printf "#!/bin/sh\necho never\n" >noexec.sh &&
	chmod 644 noexec.sh &&
	test_expect_code 126 cairn start cairn run ./noexec.sh >out 2>err &&
	grep "noexec.sh: permission denied" err &&
	! grep never out
'
test_expect_success 'a job killed by signal N exits 128+N' '
	test_expect_code 143 cairn start cairn run sh -c "kill -TERM \$\$"
'
test_expect_success 'the job stdout and stderr are copied to the caller, apart' '
	cairn start cairn run sh -c "echo to-out; echo to-err >&2; echo more-out" >out 2>err &&
	printf "to-out\nmore-out\n" >expected &&
	test_cmp expected out &&
	grep -x to-err err &&
	! grep to-err out
'
test_expect_success 'binary output comes back byte for byte' '
	printf "a\000b\001\377\n\000" >binary &&
	cairn start cairn run cat binary >out &&
	cmp binary out
'
test_expect_success 'output over 1 MiB is truncated with a note' '
	cairn start cairn run sh -c "head -c 1500000 /dev/zero | tr \"\\\\000\" x" >out &&
	test "$(tail -n 1 out)" = "[output truncated at 1048576 bytes]" &&
	test "$(head -n 1 out | wc -c)" -eq 1048577
'
test_expect_success 'output just under the limit is kept whole, without a note' '
	cairn start cairn run head -c 1048576 /dev/zero >out &&
	test "$(wc -c <out)" -eq 1048576
'
test_expect_success 'cairn submit prints an id and cairn job wait exits with the job status' '
	cat >submit-wait.sh <<-\EOF &&
	id=$(cairn submit sh -c "exit 4") || exit 99
	echo "$id" >id.out
	cairn job wait "$id"
	EOF
	test_expect_code 4 cairn start sh ./submit-wait.sh &&
	test "$(cat id.out)" = 1
'
test_expect_success 'cairn jobs lists id, state, command and times' '
	cat >list.sh <<-\EOF &&
	cairn run sh -c "exit 2"
	cairn run true &&
	cairn jobs
	EOF
	cairn start sh ./list.sh >jobs.out &&
	grep "ID *STATE *EXIT *SUBMITTED *RUNTIME *COMMAND" jobs.out &&
	grep "^ *1 *INACTIVE *2 .*s *sh -c exit 2$" jobs.out &&
	grep "^ *2 *INACTIVE *0 .*s *true$" jobs.out
'
test_expect_success 'cairn jobs shows a running job in RUN' '
	cat >running.sh <<-\EOF &&
	id=$(cairn submit sleep 30) &&
	cairn jobs >running.out
	EOF
	cairn start sh ./running.sh &&
	grep "^ *1 *RUN .*sleep 30$" running.out
'
test_expect_success 'many jobs run at once and all are waited for' '
	cat >many.sh <<-\EOF &&
	ids=""
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ids="$ids $(cairn submit sh -c "exit $i")" || exit 99
	done
	n=1
	for id in $ids; do
		cairn job wait $id
		test $? -eq $n || exit 98
		n=$((n+1))
	done
	EOF
	cairn start sh ./many.sh
'
test_expect_success 'cairn run with one argument that holds a space runs it through /bin/sh -c' '
	cat >shell.sh <<-\EOF &&
	cairn run "echo hi && echo \$((6 * 7))" &&
	id=$(cairn submit "exit 5") || exit 99
	cairn job wait "$id"
	echo "wait: $?" &&
	cairn jobs >shell-jobs.out
	EOF
	cairn start sh ./shell.sh >out &&
	printf "hi\n42\nwait: 5\n" >expected &&
	test_cmp expected out &&
	grep "^ *1 *INACTIVE *0 .*s */bin/sh -c echo hi && echo \$((6 \* 7))$" shell-jobs.out &&
	grep "^ *2 *INACTIVE *5 .*s */bin/sh -c exit 5$" shell-jobs.out
'
test_expect_success 'one word without a space, or several words, run without a shell' '
	cat >noshell.sh <<-\EOF &&
	cairn run "echo;x" ||
	cairn run echo "a && b"
	EOF
	cairn start sh ./noshell.sh >out 2>err &&
	grep "cairn: echo;x: command not found" err &&
	echo "a && b" >expected &&
	test_cmp expected out
'
test_expect_success 'cairn submit without a command fails with a usage hint' '
	test_expect_code 2 cairn start cairn submit 2>err &&
	grep "cairn: submit: no command given" err
'
test_expect_success 'cairn job wait on an unknown id fails' '
	test_must_fail cairn start cairn job wait 42 2>err &&
	grep "job 42: no such job" err
'
test_expect_success 'cairn run outside a broker says how to fix it' '
	test_must_fail cairn run true 2>err &&
	grep "CAIRN_URI is not set" err
'
test_done
