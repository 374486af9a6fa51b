#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The kselftest programs once each, whatever the module under test: used
# to show which tests a given build of the driver fails, for example v1's:
#   mkdir -p out/v1 && cp out/debug/bzImage V1/rustqueue.ko out/v1/ &&
#	RQ_SHOW=1 scripts/rq boot v1 scripts/guest/selftests.sh
# prints each program's failing tests and "selftests: N failed of M".
insmod /lib/modules/rustqueue.ko || exit 1
failed=0
total=0
for t in rustqueue_test rustqueue_queues rustqueue_queues.sh rustqueue_hostile rustqueue_fault rustqueue_stress rustqueue_fuzz rustqueue_uring rustqueue_batch; do
	/kselftest/rustqueue/$t >/tmp/$t.tap 2>&1
	echo "selftests: $t: $(grep '^# Totals:' /tmp/$t.tap)"
	grep -E '^not ok' /tmp/$t.tap
	failed=$((failed + $(grep -c '^not ok' /tmp/$t.tap)))
	total=$((total + $(grep -cE '^(not )?ok' /tmp/$t.tap)))
done
echo "selftests: $failed failed of $total"
rmmod rustqueue
exit 0
