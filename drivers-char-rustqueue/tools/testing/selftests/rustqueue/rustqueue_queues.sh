#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The life of a named rustqueue queue from the shell, as
# Documentation/userspace-api/rustqueue.rst shows it: mkdir makes
# /dev/rustqueue-NAME, echo, cat and dd use it, its settings are files,
# rmdir unlinks it while an open file keeps the queue.  /dev/rustqueue is
# only looked at.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/rustqueue_lib.sh"

cfs=/sys/kernel/config/rustqueue
name=sh-$$
dir=$cfs/$name
node=/dev/rustqueue-$name
tmp=$(mktemp -d) || exit "$KSFT_FAIL"

cleanup() {
	rmdir "$dir" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# check DESCRIPTION STATUS [WHAT WAS SEEN]
check() {
	if [ "$2" -eq 0 ]; then
		ktap_test_pass "$1"
	else
		ktap_print_msg "$1: ${3:-failed}"
		ktap_test_fail "$1"
	fi
}

ktap_print_header
if [ "$(id -u)" -ne 0 ]; then
	ktap_skip_all "not root: the test makes a queue in $cfs"
	exit "$KSFT_SKIP"
fi
if [ ! -d "$cfs" ]; then
	ktap_skip_all "$cfs not present: load rustqueue.ko, mount configfs"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 10

mkdir "$dir"
seen=$(stat -c '%F %a %u %g' "$node" 2>&1)
[ "$seen" = "character special file 600 0 0" ]
check "mkdir makes the node, 0600 root:root" $? "$seen"

seed=/sys/class/misc/rustqueue/enqueued
before=$(cat $seed)
echo "first message" >"$node"
echo "second message" >"$node"
seen="$(cat "$node") / $(cat "$node") / $(cat "$node") / $(($(cat $seed) - before))"
[ "$seen" = "first message / second message /  / 0" ]
check "echo and cat: a message per open, oldest first, the seed untouched" $? "$seen"

seen=$(cd "$dir" && grep . capacity max_msg_size semantics uid gid mode | tr '\n' ' ')
[ "$seen" = "capacity:16 max_msg_size:4096 semantics:stream uid:0 gid:0 mode:0600 " ]
check "settings are files with the documented defaults" $? "$seen"

echo packet >"$dir/semantics"
timeout 10 dd if="$node" of="$tmp/dd.out" bs=4096 count=1 2>/dev/null &
reader=$!
waiting=$(in_read $reader)
blocked=$?
echo late >"$node"
wait $reader
seen="state and syscall: ${waiting:-S read}, got: $(cat "$tmp/dd.out")"
[ "$blocked" -eq 0 ] && [ "$(cat "$tmp/dd.out")" = late ]
check "packet semantics: dd reads a message a block and waits for one" $? "$seen"

# A copy of the node made before the change of owner opens nothing after it.
old=$(stat -c '%t %T' "$node")
mknod "$tmp/old" c $((0x${old% *})) $((0x${old#* }))
echo 65534 >"$dir/uid" && echo 0640 >"$dir/mode"
seen="$(stat -c '%a %u' "$node" 2>&1), $(cat "$tmp/old" 2>&1)"
[ "${seen%%,*}" = "640 65534" ] && [ "$(stat -c '%t %T' "$node")" != "$old" ] &&
	! cat "$tmp/old" >/dev/null 2>&1 && echo "$seen" | grep -q 'No such device or address'
check "uid and mode give a new node; a copy of the old one opens nothing" $? "$seen"

if mkdir "$cfs/.$name" 2>"$tmp/err"; then
	rmdir "$cfs/.$name"
	false
else
	grep -q 'Invalid argument' "$tmp/err"
fi
check "mkdir of a bad name fails with EINVAL" $? "$(cat "$tmp/err")"

mkdir "$dir" 2>"$tmp/err"
grep -q 'File exists' "$tmp/err"
check "mkdir of an existing queue fails with EEXIST" $? "$(cat "$tmp/err")"

# The original's wish: one cat prints every queued message and ends.
echo drain >"$dir/semantics"
for m in one two three; do echo "$m" >"$node"; done
seen="$(cat "$node" | tr '\n' ' ')/$(cat "$node")/$(cat "$dir/semantics")"
[ "$seen" = "one two three //drain" ]
check "drain semantics: one cat prints every message in order and ends" $? "$seen"
echo stream >"$dir/semantics"

echo kept >"$node"
exec 3<"$node"
rmdir "$dir"
[ ! -e "$node" ] && [ ! -e "/sys/class/rustqueue/rustqueue-$name" ] && [ ! -e "$dir" ]
check "rmdir takes the node and the sysfs directory at once" $?
seen=$(dd bs=4096 count=1 <&3 2>/dev/null)
exec 3<&-
[ "$seen" = kept ]
check "a file open at rmdir still reads the queue" $? "got: $seen"

ktap_finished
