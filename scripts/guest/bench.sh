#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The benchmark's guest job (scripts/rq bench): rq-bench over every transport
# and over queues side by side in one boot, so that the ratios share the
# machine's state. "rq_bench=quick" on the kernel command line makes each
# measurement a single short run.
set -e
cd /lib/modules
insmod rustqueue.ko
# POSIX message queues hold at most 10 messages unless the sysctl is raised:
# 16 for the throughput runs, 65536 for the memory run.
echo 65536 >/proc/sys/fs/mqueue/msg_max
# Nine repetitions: under emulation some sizes run fast or slow from one
# run to the next, and the median needs numbers to stand on.
opts="-n 9"
mem=65536
if grep -qw rq_bench=quick /proc/cmdline; then
	opts="-n 1 -T 0.02 -p 200"
	mem=1024
fi
echo "RQ-BENCH-BEGIN"
echo "kernel	$(uname -r)"
echo "cpus	$(nproc)"
# Memory first: the throughput runs leave freed objects in the slab caches,
# which a later fill would reuse without the "Slab:" line growing.
rq-bench -m "$mem" -t rustqueue,mqueue,sysv
# shellcheck disable=SC2086 # $opts is a list of options
rq-bench $opts
# shellcheck disable=SC2086
rq-bench $opts -w 4 -r 4 -s 64
# Two named queues side by side against one, each queue on its own CPU.
# shellcheck disable=SC2086
rq-bench $opts -q 2 -s 64
# Many messages per call: rustqueue's records queue against the peers'
# best ways (sendmmsg/recvmmsg, io_uring) and the batch floor.
# shellcheck disable=SC2086
rq-bench $opts -b 1,16,64 -s 64,4096
echo "RQ-BENCH-END"
rmmod rustqueue
