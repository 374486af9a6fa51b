#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The kselftests again and again beside a CPU hog, to show that no test
# depends on timing: rq_repeat=N on the kernel command line (default 20).
#   RQ_APPEND=rq_repeat=20 RQ_BOOT_TIMEOUT=5400 RQ_SHOW=1 \
#	scripts/rq boot debug scripts/guest/repeat.sh
# prints a line per round and "repeat: N rounds, F failed".
n=$(sed -n 's/.*rq_repeat=\([0-9]*\).*/\1/p' /proc/cmdline)
n=${n:-20}
insmod /lib/modules/rustqueue.ko || exit 1
# One busy process per CPU, so every test competes for its CPU.
hogs=
for _ in $(seq "$(nproc)"); do
	sh -c 'while :; do :; done' &
	hogs="$hogs $!"
done
failed=0
i=1
while [ "$i" -le "$n" ]; do
	bad=
	for t in rustqueue_test rustqueue_queues rustqueue_queues.sh rustqueue_hostile rustqueue_fault rustqueue_stress rustqueue_fuzz rustqueue_uring rustqueue_batch; do
		/kselftest/rustqueue/$t >/tmp/repeat.tap 2>&1
		grep -q '^# Totals: pass:[1-9][0-9]* fail:0 xfail:0 xpass:0 skip:0 error:0$' /tmp/repeat.tap ||
			{ bad="$bad $t"; grep -E '^not ok|^# +(FAIL|.*Expected)' /tmp/repeat.tap | head -n 20; }
	done
	echo "repeat: round $i:${bad:- ok}"
	[ -z "$bad" ] || failed=$((failed + 1))
	i=$((i + 1))
done
# shellcheck disable=SC2086 # a list of PIDs
kill $hogs
echo "repeat: $n rounds, $failed failed"
rmmod rustqueue
[ "$failed" -eq 0 ]
