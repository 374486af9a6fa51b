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
