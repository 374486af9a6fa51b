# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/guest.sh: the guests: the selftests they run, their initramfs, and booting them in QEMU.
# Sourced by scripts/rq.

cmd_selftests() {
	cmd_tree
	run_logged selftests "selftests: building tools/testing/selftests/rustqueue" -- \
		build_selftests
}

# make_selftests OUTDIR TARGET...: make the rustqueue kselftests in OUTDIR.
make_selftests() {
	local out=$1
	shift
	# The tests include <linux/rustqueue.h>: install the series' uapi
	# headers where the selftests look for them (KHDR_INCLUDES).
	make -C "$TREE" O="$out" headers &&
	make -C "$TREE/tools/testing/selftests" TARGETS=rustqueue O="$out" "$@"
}

build_selftests() {
	rm -rf "$RQ_OUT/kselftest"
	make_selftests "$RQ_OUT/kselftest-build" INSTALL_PATH="$RQ_OUT/kselftest" install
	# The interface and batch tests as 32-bit programs, for the compat paths
	# (the debug kernel has IA32_EMULATION): static, so the guest needs no
	# i386 libc.
	local t
	for t in rustqueue_test rustqueue_batch; do
		gcc -m32 -static -O2 -Wall -Werror -isystem "$RQ_OUT/kselftest-build/usr/include" \
			-o "$RQ_OUT/kselftest/rustqueue/${t}_32" \
			"$TREE/tools/testing/selftests/rustqueue/$t.c" || return
	done
}

# add_program DEST HOSTPROG...: copy programs and the libraries they load.
add_program() {
	local dest=$1 prog
	shift
	for prog in "$@"; do
		cp -L "$prog" "$dest/bin/"
		add_libraries "$dest" "$prog"
	done
}

# add_libraries DEST PROG: copy the shared libraries PROG loads into DEST.
add_libraries() {
	local lib
	while read -r lib; do
		mkdir -p "$1$(dirname "$lib")"
		cp -L "$lib" "$1$lib"
	done < <(ldd "$2" 2>/dev/null | grep -o '/[^ ]*' | sort -u)
}

make_initramfs() {
	local flavour=$1 script=$2 root
	root=$RQ_OUT/initramfs-$flavour
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,root,lib/modules}
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/:/bin/sh' \
		>"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
	cp /bin/busybox "$root/bin/busybox"
	"$root/bin/busybox" --list | while read -r a; do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	# busybox tee says "I/O error" for every failed write; coreutils' names
	# the errno. Debian's busybox shell runs its own applets before looking
	# at PATH, so the shell is Debian's too (dash, as /bin/sh is there).
	rm -f "$root/bin/tee" "$root/bin/sh"
	add_program "$root" "$(command -v tee)" /bin/dash
	ln -s dash "$root/bin/sh"
	cp "$RQ_OUT/$flavour"/*.ko "$root/lib/modules/"
	[ ! -d "$RQ_OUT/kselftest" ] || {
		cp -r "$RQ_OUT/kselftest" "$root/kselftest"
		find "$root/kselftest" -type f -perm -u+x | while read -r p; do
			[ "$(head -c 4 "$p" | tail -c 3)" != ELF ] || add_libraries "$root" "$p"
		done
	}
	# Programs a job needs beyond the kselftests (rq bench).
	for p in ${RQ_GUEST_BIN:-}; do
		cp "$p" "$root/bin/"
	done
	cp "$RQ_SCRIPTS/guest/init" "$root/init"
	cp "$script" "$root/job"
	chmod +x "$root/init" "$root/job"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$RQ_OUT/initramfs-$flavour.cpio"
}

# boot FLAVOUR SCRIPT: run SCRIPT as the guest's job; the guest's console goes
# to out/logs/boot-FLAVOUR.log and, with RQ_SHOW=1, to the terminal.
cmd_boot() {
	local flavour=${1:-} script=${2:-} log rc=0 accel=(-accel tcg) status warn=1
	if [ -z "$flavour" ] || [ ! -f "$script" ]; then
		die "usage: scripts/rq boot FLAVOUR SCRIPT"
	fi
	[ -f "$RQ_OUT/$flavour/bzImage" ] || die "no out/$flavour/bzImage: run 'scripts/rq build $flavour'"
	make_initramfs "$flavour" "$script"
	[ "$RQ_KVM" = 1 ] && accel=(-enable-kvm -cpu host)
	# KCSAN panics on its first report under panic_on_warn, the upstream one
	# too; the host judges the kcsan guest's reports (kernel_problems) instead.
	[ "$flavour" != kcsan ] || warn=0
	mkdir -p "$LOGS"
	log=$LOGS/boot-$flavour.log
	local qemu=(qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 -nographic -no-reboot
		-kernel "$RQ_OUT/$flavour/bzImage" -initrd "$RQ_OUT/initramfs-$flavour.cpio"
		-append "console=ttyS0 panic=-1 panic_on_warn=$warn oops=panic quiet loglevel=5 ${RQ_SEED:+rq_seed=$RQ_SEED} ${RQ_APPEND:-}")
	say "boot $flavour: QEMU ($([ "$RQ_KVM" = 1 ] && echo KVM || echo software emulation), timeout ${RQ_BOOT_TIMEOUT}s; log: ${log#"$RQ_ROOT"/})"
	if [ "${RQ_SHOW:-0}" = 1 ]; then
		# Line-buffered, so that a long job shows each line as it comes.
		timeout -k 5 "$RQ_BOOT_TIMEOUT" "${qemu[@]}" </dev/null 2>&1 | stdbuf -oL tr -d '\r' |
			tee "$log" | sed -u -n '/RQ-JOB-BEGIN$/,/^RQ-JOB-END/{/RQ-JOB-/d;p}' || rc=$?
	else
		timeout -k 5 "$RQ_BOOT_TIMEOUT" "${qemu[@]}" </dev/null 2>&1 | tr -d '\r' >"$log" || rc=$?
	fi
	[ "$rc" -ne 124 ] || die "boot $flavour: no result in ${RQ_BOOT_TIMEOUT}s; see $log"
	if kernel_problems "$log" >&2; then
		die "boot $flavour: the kernel reported a problem; see $log"
	fi
	status=$(sed -n 's/^RQ-JOB-END \([0-9]*\)$/\1/p' "$log")
	[ -n "$status" ] || { tail -n 20 "$log" >&2; die "boot $flavour: the guest ended without a result; see $log"; }
	grep -q '^RQ-DMESG-END$' "$log" || die "boot $flavour: the guest's kernel log is incomplete; see $log"
	kcsan_sort "$log" | while IFS=$'\t' read -r class title; do
		case $class in
		pollwake) say "boot $flavour: set aside, fs/select.c's pollwake() race (KCSAN_UPSTREAM): $title" ;;
		outside) say "boot $flavour: set aside, no frame of the driver in either stack: $title" ;;
		upstream) say "boot $flavour: set aside, one-sided and named (KCSAN_UPSTREAM_ONE_SIDED): $title" ;;
		esac
	done
	return "$status"
}

cmd_demo() {
	cmd_build demo
	RQ_SHOW=1 cmd_boot demo "$RQ_SCRIPTS/guest/demo.sh"
}
