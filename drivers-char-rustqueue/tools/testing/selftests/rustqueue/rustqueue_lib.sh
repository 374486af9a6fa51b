#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# What the rustqueue shell tests share; sourced, not run.

# in_read PID: wait up to 10 s for PID to sleep in read(): its state is S
# and /proc/PID/syscall, which names the call only while the task is off
# the CPU, starts with read's number.  Prints what it saw last.
in_read() {
	case $(uname -m) in
	x86_64) nr=0 ;;
	aarch64 | riscv64 | loongarch64) nr=63 ;;
	*) nr=3 ;;
	esac
	i=0
	while [ "$i" -lt 100 ]; do
		state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)
		seen="$state $(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)"
		[ "$seen" = "S $nr" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "$seen"
	return 1
}
