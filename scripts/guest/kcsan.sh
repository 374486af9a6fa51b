#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guest half of the KCSAN run: the stress and fuzz programs under the
# data race detector, which watches one access in 100 (kcsan.config). The
# host fails the run on any kernel report but for data races with no frame
# of the driver in either stack and the one upstream race in fs/select.c
# that KCSAN_UPSTREAM names (kcsan_sort in scripts/lib/reports.sh).
seed=$(sed -n 's/.*rq_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
seed=${seed:-$(date +%s)}
insmod /lib/modules/rustqueue.ko || exit 1
cd /kselftest/rustqueue || exit 1
# One queue shared by four writers and four readers in every mode, where
# each lockless check races the locked updates most often (the racy_counter
# mutant survived the four-queue run alone), then the four queues.
./rustqueue_stress -w 4 -r 4 -t 20 -s "$seed" || exit 1
./rustqueue_stress -q 4 -b -w 12 -r 12 -t 20 -s "$seed" || exit 1
./rustqueue_fuzz -t 20 -s "$seed" || exit 1
rmmod rustqueue
