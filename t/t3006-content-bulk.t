#!/bin/sh
test_description='cairn content: store FILE..., store --netstrings, load -o DIR, in order, binary safe'
. "$(dirname "$0")/lib/sharness-cairn.sh"

# blobref_of FILE: the sha1 blobref the cache must give FILE.
blobref_of() {
	echo "sha1-$(sha1sum <"$1" | cut -d" " -f1)"
}
# netstring FILE: FILE's bytes as one netstring.
netstring() {
	printf "%d:" "$(wc -c <"$1")" && cat "$1" && printf ","
}

test_expect_success 'set up blobs: empty, with newlines and NUL bytes, 1 KiB, 1 MiB' '
	: >empty &&
	printf "line one\nline two\000after a NUL\n\n" >binary &&
	head -c 1024 /dev/urandom >kib &&
	head -c 1048576 /dev/urandom >mib &&
	for f in empty binary kib mib; do blobref_of $f || return 1; done >expect.refs
'
test_expect_success 'store FILE... prints one blobref per file, in argument order' '
	cairn start "cairn content store empty binary kib mib >got.refs" &&
	test_cmp expect.refs got.refs
'
test_expect_success 'store - reads that one from standard input' '
	{ blobref_of kib && blobref_of binary && blobref_of mib; } >expect.stdin &&
	cairn start "cairn content store kib - mib <binary >got.stdin" &&
	test_cmp expect.stdin got.stdin
'
test_expect_success 'a large blob on standard input, from a file or a pipe, is stored byte for byte' '
	for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
		head -c 2000003 /dev/urandom || return 1
	done >big &&
	blobref_of big >expect.big &&
	cat >big.sh <<-\EOF &&
	cairn content store <big >got.big.file &&
	cat big | cairn content store >got.big.pipe &&
	cairn content load "$(cat got.big.pipe)" >big.back
	EOF
	cairn start sh ./big.sh 2>big.err &&
	test_cmp expect.big got.big.file &&
	test_cmp expect.big got.big.pipe &&
	cmp big big.back &&
	test_must_be_empty big.err
'
test_expect_success 'load -o DIR writes DIR/BLOBREF byte for byte and leaves no temporary file' '
	mkdir out &&
	cairn start "cairn content store empty binary kib mib >refs &&
		cairn content load -o out \$(cat refs)" &&
	for f in empty binary kib mib; do
		cmp $f "out/$(blobref_of $f)" || return 1
	done &&
	ls -A out | sort >listed &&
	sort expect.refs >expect.listed &&
	test_cmp expect.listed listed
'
test_expect_success 'load -o DIR replaces an existing file and gives mode 0666 less the umask' '
	mkdir replaced &&
	ref=$(blobref_of kib) &&
	echo stale >replaced/$ref &&
	(umask 027 && cairn start "cairn content store kib >/dev/null &&
		cairn content load -o replaced $ref") &&
	cmp kib replaced/$ref &&
	test "$(stat -c %a replaced/$ref)" = 640
'
test_expect_success 'load --bulk -o DIR reads the blobrefs from standard input' '
	mkdir bulkout &&
	cairn start "cairn content store empty binary kib mib >/dev/null &&
		cairn content load --bulk -o bulkout <expect.refs" &&
	for f in empty binary kib mib; do
		cmp $f "bulkout/$(blobref_of $f)" || return 1
	done
'
test_expect_success 'store --netstrings round-trips blobs with newlines and NUL bytes' '
	for f in empty binary kib mib; do netstring $f || return 1; done >input.ns &&
	mkdir nsout &&
	cairn start "cairn content store --netstrings <input.ns >got.ns.refs &&
		cairn content load -o nsout \$(cat got.ns.refs)" &&
	test_cmp expect.refs got.ns.refs &&
	for f in empty binary kib mib; do
		cmp $f "nsout/$(blobref_of $f)" || return 1
	done
'
test_expect_success 'set up 500 distinct blobs, each with a newline inside' '
	mkdir many &&
	for i in $(seq 1 500); do
		printf "blob %d\nof 500\n" $i >many/$i || return 1
	done &&
	for i in $(seq 1 500); do blobref_of many/$i || return 1; done >many.refs &&
	for i in $(seq 1 500); do netstring many/$i || return 1; done >many.ns
'
test_expect_success '500 blobs through --netstrings come back in input order' '
	cairn start "cairn content store --netstrings <many.ns >got.many" &&
	test_cmp many.refs got.many
'
test_expect_success '500 files through store FILE... and load -o come back in order, byte for byte' '
	mkdir manyout &&
	cairn start "cairn content store \$(seq -f many/%g 1 500) >got.files &&
		cairn content load -o manyout \$(cat got.files)" &&
	test_cmp many.refs got.files &&
	i=0 &&
	while read ref; do
		i=$((i + 1)) &&
		cmp many/$i manyout/$ref || return 1
	done <many.refs &&
	test $(ls -A manyout | wc -l) -eq 500
'
test_expect_success 'malformed netstrings: the byte offset and what was expected; earlier blobs printed' '
	printf "5:hello,3:abcX" >bad.ns &&
	printf hello >hello &&
	blobref_of hello >expect.bad &&
	test_expect_code 1 cairn start "cairn content store --netstrings <bad.ns >got.bad" 2>err &&
	test_cmp expect.bad got.bad &&
	grep -x "cairn: content store: standard input: at byte offset 13: expected .,. after the 3-byte blob, got .X." err
'
test_expect_success 'netstrings input ending inside a blob says how many bytes are missing' '
	printf "10:abc" >short.ns &&
	test_expect_code 1 cairn start "cairn content store --netstrings <short.ns >got.short" 2>err &&
	test_must_be_empty got.short &&
	grep -x "cairn: content store: standard input: at byte offset 6: input ends inside the 10-byte blob that starts at byte offset 3 (7 bytes missing)" err
'
test_expect_success 'netstrings input short of one byte says 1 byte, not 1 bytes' '
	printf "4:abc" >short1.ns &&
	test_expect_code 1 cairn start "cairn content store --netstrings <short1.ns" 2>err &&
	grep -x "cairn: content store: standard input: at byte offset 5: input ends inside the 4-byte blob that starts at byte offset 2 (1 byte missing)" err
'
test_expect_success 'netstrings: the newline an editor adds after the last netstring is accepted' '
	printf "5:hello,\n" >final-newline.ns &&
	cairn start "cairn content store --netstrings <final-newline.ns >got.final" &&
	test_cmp expect.bad got.final
'
test_expect_success 'netstrings: a newline between netstrings is malformed, not skipped' '
	printf "5:hello,\n5:hello," >newline.ns &&
	test_expect_code 1 cairn start "cairn content store --netstrings <newline.ns >got.nl" 2>err &&
	test_cmp expect.bad got.nl &&
	grep "at byte offset 8: expected the length of a netstring (decimal digits, as in 5:hello,), got .\\\\n. (newlines may only end the input, after the last netstring)" err
'
test_expect_success 'empty --netstrings input stores nothing and succeeds' '
	cairn start "cairn content store --netstrings </dev/null >got.none" &&
	test_must_be_empty got.none
'
test_expect_success 'a missing file stops store FILE... naming it, after the blobrefs before it' '
	blobref_of kib >expect.missing &&
	test_expect_code 1 cairn start "cairn content store kib missing mib >got.missing" 2>err &&
	test_cmp expect.missing got.missing &&
	grep -x "cairn: content store: missing: No such file or directory" err
'
test_expect_success 'a directory given as a FILE is named too' '
	test_expect_code 1 cairn start "cairn content store many >got.dir" 2>err &&
	test_must_be_empty got.dir &&
	grep -x "cairn: content store: many: Is a directory" err
'
test_expect_success 'load -o into a missing directory says to create it, and loads nothing' '
	ref=$(blobref_of kib) &&
	test_expect_code 1 cairn start "cairn content store kib >/dev/null &&
		cairn content load -o nodir $ref" 2>err &&
	grep -x "cairn: content load: -o nodir: No such file or directory (create the directory first, e.g. mkdir -p nodir)" err &&
	! test -e nodir &&
	test_expect_code 1 cairn start "cairn content load -o kib $ref" 2>err &&
	grep -x "cairn: content load: -o kib: not a directory" err
'
test_expect_success 'load -o names the blob that cannot be loaded, after writing the ones before it' '
	mkdir partial &&
	unknown=sha1-0123456789abcdef0123456789abcdef01234567 &&
	ref=$(blobref_of kib) &&
	test_expect_code 1 cairn start "cairn content store kib >/dev/null &&
		cairn content load -o partial $ref $unknown" 2>err &&
	grep -x "cairn: content load: $unknown: no such blob" err &&
	cmp kib partial/$ref &&
	test "$(ls -A partial)" = "$ref"
'
test_expect_success 'load checks every blobref before loading any' '
	mkdir checked &&
	ref=$(blobref_of kib) &&
	test_expect_code 1 cairn start "cairn content store kib >/dev/null &&
		cairn content load -o checked $ref ../escape" 2>err &&
	grep -x "cairn: content load: ../escape: malformed blobref" err &&
	test -z "$(ls -A checked)" &&
	printf "%s\n" $ref ../x >refs.bad &&
	test_expect_code 1 cairn start "cairn content store kib >/dev/null &&
		cairn content load --bulk -o checked <refs.bad" 2>err &&
	grep -x "cairn: content load: line 2: ../x: malformed blobref" err &&
	cmp kib checked/$ref
'
test_expect_success 'usage errors exit 2 and say what to give' '
	ref=$(blobref_of kib) &&
	test_expect_code 2 cairn start "cairn content load $ref $ref" 2>err &&
	grep -x "cairn: content load: several BLOBREFs need -o DIR (each blob is written to DIR/BLOBREF)" err &&
	test_expect_code 2 cairn start "cairn content store --bulk kib" 2>err &&
	grep "^cairn: content store: .*--bulk.* (see cairn content store --help)" err &&
	test_expect_code 2 cairn start "cairn content store --bulk --netstrings" 2>err &&
	grep "^cairn: content store: .*--netstrings.* (see cairn content store --help)" err &&
	test_expect_code 2 cairn start "cairn content store - kib -" 2>err &&
	grep -x "cairn: content store: .-. (standard input) may be given only once" err
'
test_expect_success 'no progress line when standard error is not a terminal' '
	cairn start "cairn content store --netstrings <many.ns >/dev/null 2>progress.err" &&
	test_must_be_empty progress.err
'
if script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	test_set_prereq SCRIPT
fi
test_expect_success SCRIPT 'a terminal on standard input: a one-line hint, then the blob as typed' '
	printf "hello\n" >typed &&
	blobref_of typed >expect.typed &&
	cairn start "script -qec \"cairn content store\" /dev/null" <typed >tty3.out &&
	tr -d "\r" <tty3.out >tty3.log &&
	grep -x "cairn: content store: reading the blob from the terminal; end with Ctrl-D (or give FILE...)" tty3.log &&
	grep -x "$(cat expect.typed)" tty3.log
'
test_expect_success SCRIPT 'the bulk modes that read a terminal give the hint too' '
	cairn start "script -qec \"cairn content store --netstrings\" /dev/null" </dev/null >tty4.out &&
	grep "cairn: content store: reading netstrings from the terminal; end with Ctrl-D" tty4.out &&
	cairn start "script -qec \"cairn content load --bulk\" /dev/null" </dev/null >tty5.out &&
	grep "cairn: content load: reading blobrefs, one per line, from the terminal; end with Ctrl-D (or give BLOBREF...)" tty5.out
'
test_expect_success SCRIPT 'no hint when FILE arguments are read, though a terminal is on standard input' '
	cairn start "script -qec \"cairn content store kib\" /dev/null" </dev/null >tty6.out &&
	grep "$(blobref_of kib)" tty6.out &&
	! grep "from the terminal" tty6.out
'
test_expect_success SCRIPT 'on a terminal a progress line is drawn, then erased' '
	cairn start "script -qec \"cairn content store --netstrings <many.ns >/dev/null\" tty.log" \
		</dev/null &&
	grep "stored 1 blob (0.0 MiB)" tty.log &&
	printf "\r\033[K" >erase &&
	grep -F "$(cat erase)" tty.log
'
test_expect_success SCRIPT 'no progress line when the blobrefs go to the same terminal' '
	cairn start "script -qec \"cairn content store --netstrings <many.ns\" tty2.log" </dev/null &&
	grep -c "^sha1-" tty2.log >count &&
	test "$(cat count)" = 500 &&
	! grep "stored " tty2.log
'
test_done
