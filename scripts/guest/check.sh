#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guest half of "rq check", run in the debug kernel (and, with shorter
# long runs, rq_long, in the other architectures' kernels): the KUnit suite, the
# kselftests (functional, hostile input, fault injection, stress, fuzzing),
# the shell transcript of the README, the dynamic debug lines, module unload
# and load cycles, and a kmemleak scan. Results are KTAP lines the host
# counts; the host also reads the figure lines (stress:, fuzz:, # faults:).
n=0
failed=0
# rq_failfast on the kernel command line ("rq mutants"): stop at the first
# failure, since a broken driver can make every later test wait out a timeout.
failfast=0
grep -qw rq_failfast /proc/cmdline && failfast=1
result() {	# result NAME STATUS [DETAIL]
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n shell.$1"
	else
		echo "not ok $n shell.$1${3:+ # $3}"
		failed=1
		[ "$failfast" -eq 0 ] || exit 1
	fi
}

# kmemleak: forget what boot left, so that any later report is ours.
kmemleak=/sys/kernel/debug/kmemleak
[ ! -e $kmemleak ] || { echo scan >$kmemleak; echo clear >$kmemleak; }

# The seed of the stress and fuzz runs: rq_seed=N on the kernel command line
# (RQ_SEED=N scripts/rq check) repeats a run.
seed=$(sed -n 's/.*rq_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
seed=${seed:-$(date +%s)}
# The length of the stress and fuzz runs, in seconds: a minute, or
# rq_long=N on the kernel command line (the shorter runs of the guests of
# other architectures in "rq check").
long=$(sed -n 's/.*rq_long=\([0-9]*\).*/\1/p' /proc/cmdline)
long=${long:-60}

insmod /lib/modules/rustqueue.ko
result insmod $?
# The node's owner and mode are this project's policy (no udev here).
[ "$(stat -c '%a %U %G' /dev/rustqueue)" = "600 root root" ]
result node_0600_root $? "$(stat -c '%a %U %G' /dev/rustqueue)"
# The KUnit suite ran as the module loaded; the host parses its KTAP.
kunit=/sys/kernel/debug/kunit/rustqueue/results
echo RQ-KUNIT-BEGIN
cat $kunit
echo RQ-KUNIT-END
grep -qE '^[[:space:]]*ok [0-9]+ rustqueue$' $kunit && ! grep -q 'not ok' $kunit
result kunit_suite_rustqueue $? "$(grep 'not ok' $kunit)"
# run_kselftest.sh exits 0 whatever its tests did: read its TAP instead.
# One program at a time, so that a failure can end the run early.
: >/tmp/kselftest.tap
for t in rustqueue_test rustqueue_queues rustqueue_queues.sh rustqueue_hostile rustqueue_fault \
	rustqueue_stress rustqueue_fuzz rustqueue_uring rustqueue_batch; do
	(cd /kselftest && ./run_kselftest.sh -t "rustqueue:$t") | tee /tmp/kselftest-one.tap
	cat /tmp/kselftest-one.tap >>/tmp/kselftest.tap
	grep -q "^ok [0-9]* selftests: rustqueue: $t\$" /tmp/kselftest-one.tap
	result "kselftest_$t" $?
done
# Every test ran here: a skipped one (say, no tracefs) proves nothing.
[ "$(grep -c '^# # Totals: pass:[1-9][0-9]* fail:0 xfail:0 xpass:0 skip:0 error:0$' /tmp/kselftest.tap)" -eq 9 ]
result kselftest_rustqueue_none_skipped $? "$(grep -E 'SKIP|Totals' /tmp/kselftest.tap)"

# The long runs: a minute of load, and a minute of random calls (rq_long).
# Four queues (the seed and three named ones, the last in "records"
# semantics), three writers and three readers each, in mixed modes and
# through io_uring: nothing may cross from one queue to another.
/kselftest/rustqueue/rustqueue_stress -q 4 -b -w 12 -r 12 -t "$long" -s "$seed" | tee /tmp/stress.txt
grep -q '^ok 1 ' /tmp/stress.txt
result "stress_${long}s" $?
/kselftest/rustqueue/rustqueue_fuzz -t "$long" -s "$seed" | tee /tmp/fuzz.txt
grep -q '^ok 1 ' /tmp/fuzz.txt
result "fuzz_${long}s" $?

# The same tests from a 32-bit process: the compat ioctl and read/write paths.
# Its results are named compat_*, apart from the 64-bit ones. The host built
# them where the kernel runs 32-bit programs (x86_64, arm64), and checks
# that they ran there.
for t in rustqueue_test rustqueue_batch; do
	[ -x "/kselftest/rustqueue/${t}_32" ] || continue
	"/kselftest/rustqueue/${t}_32" 2>&1 |
		sed -E 's/^((not )?ok [0-9]+ )/\1compat_/' | tee /tmp/kselftest32.tap
	grep -q '^# Totals: pass:[1-9][0-9]* fail:0 xfail:0 xpass:0 skip:0 error:0$' /tmp/kselftest32.tap
	result "kselftest_${t}_32bit" $? "$(grep -E 'SKIP|Totals' /tmp/kselftest32.tap)"
done

# Packet mode from the shell: dd with iflag=direct reads one message a block.
sysfs=/sys/class/misc/rustqueue
printf abc >/dev/rustqueue
printf defgh >/dev/rustqueue
out=$(dd if=/dev/rustqueue iflag=direct bs=4096 count=2 2>/dev/null)
[ "$out" = abcdefgh ] && [ "$(cat $sysfs/count)" = 0 ]
result dd_iflag_direct_reads_one_message_a_block $? "got: $out"

dd if=/dev/zero of=/dev/rustqueue oflag=direct bs=100 count=3 2>/dev/null
[ "$(cat $sysfs/count) $(cat $sysfs/bytes)" = "3 300" ]
result dd_oflag_direct_writes_one_message_a_block $? "count, bytes: $(cat $sysfs/count) $(cat $sysfs/bytes)"
dd if=/dev/rustqueue of=/dev/null iflag=direct bs=4096 count=3 2>/dev/null

# in_read PID: PID seen asleep in read(), from the kselftests' shell library.
# shellcheck source=/dev/null # in the guest only
. /kselftest/rustqueue/rustqueue_lib.sh

# A packet reader waits for the writer, then gets its message. A lost wakeup
# fails the test after 10 s instead of holding up the guest.
timeout 10 dd if=/dev/rustqueue of=/tmp/dd.out iflag=direct bs=4096 count=1 2>/dev/null &
reader=$!
waiting=$(in_read $reader)
blocked=$?
echo wake >/dev/rustqueue
wait $reader
got=$(cat /tmp/dd.out)
# A reader that did not wait, or was not woken, leaves "wake" queued: the
# later tests want it gone.
[ "$got" = wake ] || cat /dev/rustqueue >/dev/null
[ "$blocked" -eq 0 ] && [ "$got" = wake ]
result dd_iflag_direct_waits_for_a_message $? "state and syscall: ${waiting:-S read}, got: $got"

modes=$(for f in capacity max_msg_size count bytes enqueued dequeued rejected; do
	printf '%s=%s ' $f "$(stat -c %a $sysfs/$f)"; done)
[ "$modes" = "capacity=644 max_msg_size=644 count=444 bytes=444 enqueued=444 dequeued=444 rejected=444 " ]
result sysfs_attribute_modes $? "got: $modes"
echo 0 | tee $sysfs/capacity >/dev/null 2>/tmp/sysfs.err
grep -q 'Invalid argument' /tmp/sysfs.err && [ "$(cat $sysfs/capacity)" = 16 ]
result sysfs_capacity_0_einval $? "$(cat /tmp/sysfs.err)"

# The transcript users run, with the tools they use.
for m in first second third; do echo "$m message" | tee /dev/rustqueue >/dev/null; done
out=$(cat /dev/rustqueue; cat /dev/rustqueue; cat /dev/rustqueue; cat /dev/rustqueue)
want=$(printf 'first message\nsecond message\nthird message')
[ "$out" = "$want" ]
result cat_gives_three_messages_then_nothing $? "got: $out"

errs=$(for i in $(seq 1 20); do
	echo "message $i" | tee /dev/rustqueue >/dev/null 2>/tmp/tee.err ||
		echo "write $i FAILED: $(cat /tmp/tee.err)"
done)
[ "$(echo "$errs" | grep -c FAILED)" -eq 4 ] && echo "$errs" | grep -q '^write 17 FAILED' &&
	[ "$(echo "$errs" | grep -c 'No space left on device')" -eq 4 ]
result tee_16_ok_then_4_enospc $? "got: $errs"

dd if=/dev/zero of=/dev/rustqueue bs=4097 count=1 2>/tmp/dd.err
grep -q 'Invalid argument' /tmp/dd.err
result dd_4097_bytes_einval $? "$(cat /tmp/dd.err)"

# Mode 0600 root:root: anyone else is refused, reading and writing.
out=$(su -s /bin/sh nobody -c 'cat /dev/rustqueue; echo x >/dev/rustqueue' 2>&1)
[ "$(echo "$out" | grep -c 'Permission denied')" -eq 2 ]
result non_root_gets_eacces $? "got: $out"

# A working driver logs nothing in its I/O paths (it has no pr_debug() either,
# so there is no dynamic debug to switch on). Only lines between two markers
# count: the kernel log may be full, and then every new line pushes out an old
# one. The second marker also closes a line printed without a newline, which
# dmesg shows only once the next line starts.
echo 'rq-check: quiet from here' >/dev/kmsg
cat /dev/rustqueue >/dev/null
echo quiet >/dev/rustqueue
dd if=/dev/rustqueue of=/dev/null iflag=direct bs=4096 count=1 2>/dev/null
echo 'rq-check: quiet until here' >/dev/kmsg
noise=$(dmesg | sed -n '/rq-check: quiet from here/,/rq-check: quiet until here/p' | grep 'rustqueue')
[ -z "$noise" ] && dmesg | grep -q 'rq-check: quiet until here'
result quiet_log $? "logged: $noise"

# The module cannot go while a file is open.
exec 3</dev/rustqueue
! rmmod rustqueue 2>/dev/null && [ -e /dev/rustqueue ]
result rmmod_refused_while_open $?
exec 3<&-

# Unloading frees the messages still queued (KASAN and kmemleak watch).
rmmod rustqueue
result rmmod_with_messages_queued $?
[ ! -e /dev/rustqueue ]
result device_gone_after_rmmod $?

# Load and unload again and again, each time with messages queued and one
# taken by a file that read only part of it.
cycles=0
for i in 1 2 3 4 5; do
	insmod /lib/modules/rustqueue.ko || break
	printf 'cycle %s' "$i" >/dev/rustqueue
	printf 'one more' >/dev/rustqueue
	head -c 3 /dev/rustqueue >/dev/null
	rmmod rustqueue || break
	cycles=$i
done
[ "$cycles" -eq 5 ]
result load_unload_cycles_with_messages_queued $? "$cycles cycles"

# A copy of a named queue's node outlives the module: after a reload, it
# opens no queue of the new load (each load numbers from a random start).
cfs=/sys/kernel/config/rustqueue
seen="insmod or mkdir failed"
if insmod /lib/modules/rustqueue.ko && mkdir $cfs/reload; then
	old=$(stat -c '%t %T' /dev/rustqueue-reload)
	mknod /tmp/rq-reload c $((0x${old% *})) $((0x${old#* }))
	rmdir $cfs/reload
	rmmod rustqueue
	insmod /lib/modules/rustqueue.ko && mkdir $cfs/reload &&
		seen="$old, then $(stat -c '%t %T' /dev/rustqueue-reload): $(cat /tmp/rq-reload 2>&1)"
	rmdir $cfs/reload
	rmmod rustqueue
	rm -f /tmp/rq-reload
fi
# The same major again (or the test proves nothing), and the copy refused.
case "$seen" in "${old%% *} "*", then ${old%% *} "*'No such device or address') true ;; *) false ;; esac
result stale_node_after_reload_opens_nothing $? "$seen"

if [ -e $kmemleak ]; then
	# kmemleak reports objects older than 5 s that nothing points to.
	sleep 6
	echo scan >$kmemleak
	echo scan >$kmemleak
	echo "kmemleak: $(grep -c 'unreferenced object' $kmemleak) unreferenced objects"
	! grep -q 'unreferenced object' $kmemleak
	result kmemleak_no_leak $? "$(cat $kmemleak)"
fi

[ "$failed" -eq 0 ]
