# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/guest.sh: the guests: the selftests they run, their initramfs, and booting them in QEMU.
# Sourced by scripts/rq.

# cmd_selftests [ARCH]: the kselftests built for ARCH (default x86_64) and
# installed into selftests_dir ARCH.
cmd_selftests() {
	local arch=${1:-x86_64}
	[[ " $ARCHES " == *" $arch "* ]] || die "selftests: unknown architecture '$arch' ($ARCHES)"
	cmd_tree
	arch_deps "$arch"
	run_logged "selftests-$arch" "selftests: building tools/testing/selftests/rustqueue for $arch" -- \
		build_selftests "$arch"
}

selftests_dir() {
	if [ "$1" = x86_64 ]; then echo "$RQ_OUT/kselftest"; else echo "$RQ_OUT/kselftest-$1"; fi
}

# make_selftests OUTDIR ARCH TARGET...: make the rustqueue kselftests for
# ARCH in OUTDIR.
make_selftests() {
	local out=$1 vars=()
	read -ra vars <<<"$(arch_make_vars "$2")"
	[ "$2" != i386 ] || vars+=("CC=gcc -m32")
	shift 2
	# The tests include <linux/rustqueue.h>: install the series' uapi
	# headers where the selftests look for them (KHDR_INCLUDES).
	make -C "$TREE" O="$out" "${vars[@]}" headers &&
	make -C "$TREE/tools/testing/selftests" TARGETS=rustqueue O="$out" "${vars[@]}" "$@"
}

# The interface and batch tests are also built as 32-bit programs where the
# 64-bit kernel runs them (IA32_EMULATION, arm64's COMPAT): the compat
# ioctl and read/write paths. Static, so the guest needs no 32-bit libc;
# with the 32-bit architecture's uapi headers.
compat_cc() {
	case "$1" in
	x86_64) echo "gcc -m32" ;;
	arm64) echo arm-linux-gnueabihf-gcc ;;
	esac
}

build_selftests() {
	local arch=$1 dir build cc t hdrs
	dir=$(selftests_dir "$arch")
	build=$RQ_OUT/kselftest-build
	[ "$arch" = x86_64 ] || build=$build-$arch
	rm -rf "$dir"
	make_selftests "$build" "$arch" INSTALL_PATH="$dir" install || return
	cc=$(compat_cc "$arch")
	[ -n "$cc" ] || return 0
	hdrs=$build/usr/include
	if [ "$arch" = arm64 ]; then
		hdrs=$RQ_OUT/kselftest-build-arm/usr/include
		make -C "$TREE" O="$RQ_OUT/kselftest-build-arm" ARCH=arm headers || return
	fi
	for t in rustqueue_test rustqueue_batch; do
		$cc -static -O2 -Wall -Werror -isystem "$hdrs" \
			-o "$dir/rustqueue/${t}_32" \
			"$TREE/tools/testing/selftests/rustqueue/$t.c" || return
	done
}

# Debian's name of ARCH, and the user space a guest of ARCH runs: for
# x86_64 the host's own programs; for another architecture Debian's
# busybox-static, dash, coreutils and libc6 of that architecture, unpacked
# in the cache (dpkg learns the architecture; nothing is installed).
deb_arch() { case "$1" in x86_64) echo amd64 ;; *) echo "$1" ;; esac; }

userland_dir() { echo "$RQ_CACHE/userland-$(deb_arch "$1")"; }

fetch_userland() {
	local a dir tmp deb debs
	a=$(deb_arch "$1")
	debs=("busybox-static:$a" "dash:$a" "coreutils:$a" "libc6:$a")
	dir=$(userland_dir "$1")
	[ ! -f "$dir/.complete" ] || return 0
	if ! { dpkg --print-architecture; dpkg --print-foreign-architectures; } | grep -qx "$a"; then
		as_root dpkg --add-architecture "$a"
		as_root apt-get update -q || true
	fi
	tmp=$(mktemp -d)
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$tmp" && apt-get download "${debs[@]}") ||
		{ as_root apt-get update -q && (cd "$tmp" && apt-get download "${debs[@]}"); } ||
		{ rm -rf "$tmp"; return 1; }
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$dir" || { rm -rf "$tmp"; return 1; }
	done
	rm -rf "$tmp"
	touch "$dir/.complete"
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
	local target=$1 script=$2 root arch u tests
	arch=$(target_arch "$target")
	root=$RQ_OUT/initramfs-$target
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,root,lib/modules}
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/:/bin/sh' \
		>"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
	# The applets are the host busybox's: Debian builds the same set for
	# every architecture.
	/bin/busybox --list | while read -r a; do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	# busybox tee says "I/O error" for every failed write; coreutils' names
	# the errno. Debian's busybox shell runs its own applets before looking
	# at PATH, so the shell is Debian's too (dash, as /bin/sh is there).
	rm -f "$root/bin/tee" "$root/bin/sh"
	if [ "$arch" = x86_64 ]; then
		cp /bin/busybox "$root/bin/busybox"
		add_program "$root" "$(command -v tee)" /bin/dash
	else
		u=$(userland_dir "$arch")
		cp "$u/bin/busybox" "$u/bin/dash" "$u/usr/bin/tee" "$root/bin/"
		# libc6 keeps its libraries and dynamic loader under /lib.
		cp -a "$u/lib/." "$root/lib/"
	fi
	ln -s dash "$root/bin/sh"
	cp "$RQ_OUT/$target"/*.ko "$root/lib/modules/"
	tests=$(selftests_dir "$arch")
	[ ! -d "$tests" ] || {
		cp -r "$tests" "$root/kselftest"
		[ "$arch" != x86_64 ] ||
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
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$RQ_OUT/initramfs-$target.cpio"
}

# qemu_command ARCH KERNEL INITRD APPEND: the QEMU command line that boots
# KERNEL on ARCH's machine with two CPUs, its console on stdio.
qemu_command() {
	local arch=$1 kernel=$2 initrd=$3 append=$4 accel=(-accel tcg)
	case "$arch" in
	x86_64|i386)
		[ "$RQ_KVM" = 1 ] && accel=(-enable-kvm -cpu host)
		printf '%s\0' "qemu-system-$arch" "${accel[@]}" -m 1024 \
			-append "console=ttyS0 $append" ;;
	# A Cortex-A72: ARMv8.0, whose atomics are load/store-exclusive loops.
	arm64)
		printf '%s\0' qemu-system-aarch64 -M virt -cpu cortex-a72 -m 1024 \
			-append "console=ttyAMA0 $append" ;;
	s390x)
		printf '%s\0' qemu-system-s390x -M s390-ccw-virtio -m 1024 \
			-append "console=ttysclp0 $append" ;;
	esac
	printf '%s\0' -smp 2 -nographic -no-reboot -kernel "$kernel" -initrd "$initrd"
}

# boot FLAVOUR SCRIPT: run SCRIPT as the guest's job; the guest's console goes
# to out/logs/boot-FLAVOUR.log and, with RQ_SHOW=1, to the terminal.
cmd_boot() {
	local flavour=${1:-} script=${2:-} log rc=0 status warn=1 arch kernel qemu=()
	if [ -z "$flavour" ] || [ ! -f "$script" ]; then
		die "usage: scripts/rq boot FLAVOUR[-ARCH] SCRIPT"
	fi
	arch=$(target_arch "$flavour")
	kernel=$(kernel_image "$arch")
	kernel=$RQ_OUT/$flavour/${kernel##*/}
	[ -f "$kernel" ] || die "no ${kernel#"$RQ_ROOT"/}: run 'scripts/rq build $flavour'"
	arch_deps "$arch"
	[ "$arch" = x86_64 ] || run_logged "userland-$arch" "boot $flavour: Debian's $arch busybox, dash, coreutils and libc in the cache" -- \
		fetch_userland "$arch"
	make_initramfs "$flavour" "$script"
	# KCSAN panics on its first report under panic_on_warn, the upstream one
	# too; the host judges the kcsan guest's reports (kernel_problems) instead.
	case "$(target_flavour "$flavour")" in kcsan|strict) warn=0 ;; esac
	mkdir -p "$LOGS"
	log=$LOGS/boot-$flavour.log
	mapfile -d '' -t qemu < <(qemu_command "$arch" "$kernel" "$RQ_OUT/initramfs-$flavour.cpio" \
		"panic=-1 panic_on_warn=$warn oops=panic quiet loglevel=5 ${RQ_SEED:+rq_seed=$RQ_SEED} ${RQ_APPEND:-}")
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
		one-sided) say "boot $flavour: set aside, one stack and no frame of the driver: $title" ;;
		esac
	done
	return "$status"
}

cmd_demo() {
	cmd_build demo
	RQ_SHOW=1 cmd_boot demo "$RQ_SCRIPTS/guest/demo.sh"
}
