# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/reports.sh: what a guest kernel reported: the problem lines, and the KCSAN reports sorted by whose they are.
# Sourced by scripts/rq.

# What a kernel prints when something went wrong: any of it in a guest's log
# fails the boot, but for the KCSAN reports kcsan_set_aside names.
KERNEL_PROBLEMS='BUG:|WARNING:|Oops|Call Trace|Kernel panic|UBSAN:|blocked for more than'

# The one data race with the driver in its stacks that is not the driver's:
# in fs/select.c, pollwake() sets the waiting poller's "triggered" flag with
# a plain store (after smp_wmb()) while the poller reads it plainly in
# poll_schedule_timeout(); the waker is any wake_up() of a wait queue a
# poller waits on, here the driver's. Its title in the kcsan build is
# "poll_schedule_timeout.constprop.0 / pollwake" (KCSAN sorts the two names).
# Only that pair of functions is set aside: every other report with a frame
# of the driver, a one-sided one with pollwake included, fails the run.
KCSAN_UPSTREAM='BUG: KCSAN: data-race in poll_schedule_timeout(\.[a-z]+\.[0-9]+)* / pollwake$'

# kcsan_sort LOG: one line per KCSAN report of LOG's guest kernel log: its
# class, a tab, its title. The class is
#   "pollwake" for KCSAN_UPSTREAM's race, with the driver's wakeup in it;
#   "driver" for any other report with a frame of the driver (rustqueue_*,
#     or any function of the module) in either stack;
#   "outside" for a report with two stacks and no frame of the driver: two
#     paths of the core kernel, as the lockless path walk of fs/namei.c
#     against fs/dcache.c when the fuzzer opens nodes that rmdir removes
#     ("__dentry_kill / step_into");
#   "one-sided" for a report with one stack ("race at unknown origin": the
#     value changed under a watched access, the writer unseen) and no frame
#     of the driver, as the plain read of a directory's i_dir_seq in
#     fs/dcache.c's start_dir_add() when the fuzzer looks up nodes in /dev
#     while others are added or removed.
# Only "driver" fails a run: the others stay in the log, and the host names
# each (cmd_boot) and counts them (the reliability line). A race on the
# driver's data seen only in two core-kernel stacks would be set aside too:
# the wait queues and the O_ASYNC lists in struct rustqueue are also changed
# by fs/select.c, eventpoll, io_uring and fs/fcntl.c, each under the wait
# queue's or fasync's own locks.
kcsan_sort() {
	guest_dmesg "$1" | KCSAN_UPSTREAM=$KCSAN_UPSTREAM awk '
		function out(class) {
			if (title ~ ENVIRON["KCSAN_UPSTREAM"])
				class = "pollwake"
			else if (driver)
				class = "driver"
			else if (!one_sided)
				class = "outside"
			else
				class = "one-sided"
			print class "\t" title
			title = ""
		}
		/BUG: KCSAN: / {
			if (title != "")
				out()
			title = substr($0, index($0, "BUG: KCSAN: "))
			driver = 0
			one_sided = 0
			next
		}
		title == "" { next }
		/^=+$/ { out(); next }
		/race at unknown origin/ { one_sided = 1 }
		/(^|[[:space:]])rustqueue_[A-Za-z0-9_.]*\+0x|\[rustqueue\]/ { driver = 1 }
		END { if (title != "") out() }'
}

# kcsan_set_aside LOG: the titles of LOG's KCSAN reports that do not fail a
# boot: of any class but driver, and of no report of the driver.
kcsan_set_aside() {
	kcsan_sort "$1" | awk -F '\t' '
		$1 != "driver" { aside[$2] = 1; next }
		{ failing[$2] = 1 }
		END { for (t in aside) if (!(t in failing)) print t }'
}

# kernel_problems LOG [dmesg]: print the problem lines of LOG (of the guest's
# kernel log in LOG only, with "dmesg"), as grep -n does, but for the KCSAN
# reports kcsan_set_aside names; succeed only when there is one.
kernel_problems() {
	local aside
	aside=$(kcsan_set_aside "$1")
	if [ "${2:-}" = dmesg ]; then guest_dmesg "$1"; else cat "$1"; fi |
		grep -nE "$KERNEL_PROBLEMS" | ASIDE=$aside awk '
			BEGIN { n = split(ENVIRON["ASIDE"], t, "\n"); for (i = 1; i <= n; i++) aside[t[i]] = 1 }
			{ title = $0; i = index(title, "BUG: KCSAN: "); if (i) title = substr(title, i) }
			!(title in aside) { print; found = 1 }
			END { exit !found }'
}

# guest_dmesg LOG: the guest's kernel log, as its init copies it into LOG
# after the job; the console before it shows part of it a second time.
guest_dmesg() {
	sed -n '/^RQ-DMESG-BEGIN$/,/^RQ-DMESG-END$/p' "$1"
}

# kcsan_reports LOG CLASS: how many KCSAN reports of CLASS (see kcsan_sort)
# the guest's kernel log holds.
kcsan_reports() {
	kcsan_sort "$1" | grep -c "^$2	" || true
}
