#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The README transcript: each command is shown with a shell prompt, then run.
# shellcheck disable=SC2016 # the commands expand in the guest, not here
run() {
	printf '~ # %s\n' "$1"
	eval "$1"
}
cd /lib/modules || exit 1
run 'insmod rustqueue.ko dyndbg=+p'
run 'ls -la /dev/rustqueue'
run 'echo "first message" | tee /dev/rustqueue > /dev/null'
run 'echo "second message" | tee /dev/rustqueue > /dev/null'
run 'echo "third message" | tee /dev/rustqueue > /dev/null'
run 'cat /dev/rustqueue    # first message'
run 'cat /dev/rustqueue    # second message'
run 'cat /dev/rustqueue    # third message'
run 'cat /dev/rustqueue    # nothing: empty queue, EOF'
run 'for i in $(seq 1 20); do echo "message $i" | tee /dev/rustqueue > /dev/null || echo "write $i FAILED"; done'
run 'dmesg | grep rustqueue'
run 'rmmod rustqueue'
