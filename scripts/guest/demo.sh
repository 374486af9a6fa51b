#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The README transcript: each command is shown with a shell prompt, then run.
# shellcheck disable=SC2016 # the commands expand in the guest, not here
run() {
	printf '~ # %s\n' "$1"
	eval "$1"
}
cd /lib/modules || exit 1
run 'insmod rustqueue.ko'
run 'ls -l /dev/rustqueue'
run 'echo "first message" > /dev/rustqueue'
run 'echo "second message" > /dev/rustqueue'
run 'echo "third message" > /dev/rustqueue'
run 'cat /dev/rustqueue    # one message per open, oldest first'
run 'cat /dev/rustqueue'
run 'cat /dev/rustqueue'
run 'cat /dev/rustqueue    # empty queue: end of file at once'
run 'for i in $(seq 1 17); do echo "message $i" | tee /dev/rustqueue > /dev/null || echo "write $i refused"; done'
run '(cd /sys/class/misc/rustqueue && grep . capacity count enqueued dequeued rejected)'
run 'dd if=/dev/rustqueue iflag=direct bs=4096 count=16 2>/dev/null | tail -n 2    # packet mode: a read is a message'
run '(sleep 1; echo "late message" > /dev/rustqueue) & dd if=/dev/rustqueue iflag=direct bs=4096 count=1 2>/dev/null; wait    # waits'
run 'rmmod rustqueue'
# The second part: named queues. The first part above never changes.
run 'insmod rustqueue.ko    # again, for named queues: a mkdir each'
run 'mkdir /sys/kernel/config/rustqueue/jobs'
run "stat -c '%A %U:%G %n' /dev/rustqueue-jobs"
run 'echo "job 1" > /dev/rustqueue-jobs; echo "not a job" > /dev/rustqueue'
run 'cat /dev/rustqueue-jobs; cat /dev/rustqueue    # each queue its own messages'
run 'cd /sys/kernel/config/rustqueue/jobs; echo packet > semantics; echo 65534 > uid; echo 0640 > mode; grep . *; cd /lib/modules'
run "stat -c '%A %U:%G %n' /dev/rustqueue-jobs    # handed to nobody"
run 'su -s /bin/sh nobody -c "echo job 2 > /dev/rustqueue-jobs; echo job 3 > /dev/rustqueue-jobs; cat /dev/rustqueue"'
run 'dd if=/dev/rustqueue-jobs bs=4096 count=2 2>/dev/null    # packet semantics: a read is a message'
run 'exec 3<> /dev/rustqueue-jobs; rmdir /sys/kernel/config/rustqueue/jobs; ls /dev/rustqueue-jobs'
run 'echo "after rmdir" >&3; dd bs=4096 count=1 <&3 2>/dev/null; exec 3<&-    # open files keep the queue'
run 'rmmod rustqueue'
