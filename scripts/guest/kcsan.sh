#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guest half of the KCSAN run: the stress and fuzz programs under the
# data race detector. The host fails the run on any "BUG: KCSAN" report.
seed=$(sed -n 's/.*rq_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
seed=${seed:-$(date +%s)}
# KCSAN samples: it sets a watchpoint on one access in skip_watch (4000 by
# default), so a race in a short run may go unseen. One in 400 makes the
# 30 s of stress ten times as watchful, at some cost in messages moved.
echo 400 >/sys/module/kcsan/parameters/skip_watch || exit 1
insmod /lib/modules/rustqueue.ko || exit 1
cd /kselftest/rustqueue || exit 1
./rustqueue_stress -t 30 -s "$seed" || exit 1
./rustqueue_fuzz -t 20 -s "$seed" || exit 1
rmmod rustqueue
