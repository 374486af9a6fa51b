#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guest half of "rq check", run in the debug kernel: the kselftests, the
# shell transcript of the README, the dynamic debug lines, module unload and
# a kmemleak scan. Results are KTAP lines the host counts.
n=0
failed=0
result() {	# result NAME STATUS [DETAIL]
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n shell.$1"
	else
		echo "not ok $n shell.$1${3:+ # $3}"
		failed=1
	fi
}

# kmemleak: forget what boot left, so that any later report is ours.
kmemleak=/sys/kernel/debug/kmemleak
[ ! -e $kmemleak ] || { echo scan >$kmemleak; echo clear >$kmemleak; }

insmod /lib/modules/rustqueue.ko dyndbg=+p
result insmod $?

# run_kselftest.sh exits 0 whatever its tests did: read its TAP instead.
(cd /kselftest && ./run_kselftest.sh) | tee /tmp/kselftest.tap
grep -q '^ok 1 selftests: rustqueue: rustqueue_test$' /tmp/kselftest.tap
result kselftest_rustqueue $?

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

log=$(dmesg | grep 'rustqueue: ')
for line in 'module loaded (capacity 16 messages)' 'enqueued 14 bytes (1 in queue)' \
	    'dequeued (2 remaining)' 'queue full, rejecting write'; do
	echo "$log" | grep -qF "rustqueue: $line"
	result "dyndbg_line '$line'" $?
done

# Nothing logs without dynamic debug.
echo 'module rustqueue -p' >/sys/kernel/debug/dynamic_debug/control
before=$(dmesg | grep -c 'rustqueue: ')
cat /dev/rustqueue >/dev/null
echo quiet >/dev/rustqueue
[ "$(dmesg | grep -c 'rustqueue: ')" -eq "$before" ]
result quiet_without_dyndbg $?

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

if [ -e $kmemleak ]; then
	# kmemleak reports objects older than 5 s that nothing points to.
	sleep 6
	echo scan >$kmemleak
	echo scan >$kmemleak
	! grep -q 'unreferenced object' $kmemleak
	result kmemleak_no_leak $? "$(cat $kmemleak)"
fi

[ "$failed" -eq 0 ]
