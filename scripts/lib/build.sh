# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/build.sh: configuration and kernel builds, for each flavour and architecture.
# Sourced by scripts/rq.

# A build target is FLAVOUR or FLAVOUR-ARCH: the flavour says what the
# kernel is for, the architecture what it runs on (x86_64 when not named).
#   demo     the smallest kernel the README transcript runs in
#   release  no checkers: what the tests' and benchmark's programs need
#   test     the cheaper checkers (lockdep, UBSAN, fault injection, KUnit)
#   debug    test, plus KASAN, kmemleak, DEBUG_PAGEALLOC, debug objects and
#            preemption
#   kcsan    the data race detector
#   strict   kcsan in its strict mode (CONFIG_KCSAN_STRICT)
#   clang    test, compiled by clang (LLVM=1)
#   builtin  the driver built in (=y) and the uapi header test ("rq lint")
#   off      the driver left out (=n) ("rq lint")
FLAVOURS="demo release test debug kcsan strict clang builtin off"
#   x86_64   the host's; i386 (ARCH=i386); arm64 and s390x (64-bit,
#            big-endian), cross-compiled with Debian's gcc-*-linux-gnu
ARCHES="x86_64 i386 arm64 s390x"

target_arch() {
	case "$1" in
	*-i386) echo i386 ;;
	*-arm64) echo arm64 ;;
	*-s390x) echo s390x ;;
	*) echo x86_64 ;;
	esac
}

target_flavour() {
	local arch
	arch=$(target_arch "$1")
	if [ "$arch" = x86_64 ]; then echo "$1"; else echo "${1%-"$arch"}"; fi
}

# valid_target TARGET: die unless TARGET names a known flavour and arch.
valid_target() {
	local f
	f=$(target_flavour "$1")
	[[ " $FLAVOURS " == *" $f "* ]] ||
		die "unknown build target '$1': FLAVOUR (x86_64) or FLAVOUR-ARCH, with FLAVOUR one of $FLAVOURS and ARCH one of ${ARCHES#x86_64 }"
	[ "$f" != clang ] || [ "$(target_arch "$1")" = x86_64 ] ||
		die "build target '$1': the clang flavour is built for x86_64 only"
	# KASAN and KCSAN are x86_64's, not i386's (arch/x86/Kconfig).
	[[ "$1" != @(debug|kcsan|strict)-i386 ]] ||
		die "build target '$1': KASAN and KCSAN need a 64-bit x86 kernel; test-i386 has the other checkers"
}

flavour_dir() { printf '%s\n' "$TREE/build-$1"; }

# arch_make_vars ARCH: kbuild's ARCH and CROSS_COMPILE for ARCH.
arch_make_vars() {
	case "$1" in
	i386) echo ARCH=i386 ;;
	arm64) echo ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- ;;
	s390x) echo ARCH=s390 CROSS_COMPILE=s390x-linux-gnu- ;;
	esac
}

# cross_prefix ARCH: the prefix of ARCH's Debian cross toolchain (gcc,
# objdump), empty for the host's.
cross_prefix() {
	local v
	for v in $(arch_make_vars "$1"); do
		case "$v" in CROSS_COMPILE=*) echo "${v#CROSS_COMPILE=}" ;; esac
	done
}

# kernel_image ARCH: the boot image kbuild makes for ARCH (a make target,
# and its path in the build directory).
kernel_image() {
	case "$1" in
	arm64) echo arch/arm64/boot/Image ;;
	s390x) echo arch/s390/boot/bzImage ;;
	*) echo arch/x86/boot/bzImage ;;
	esac
}

kmake() {
	local target=$1 arch cc vars=()
	shift
	arch=$(target_arch "$target")
	read -ra vars <<<"$(arch_make_vars "$arch")"
	cc=$(cross_prefix "$arch")gcc
	[ "$(target_flavour "$target")" != clang ] || { cc=clang; vars+=(LLVM=1); }
	command -v ccache >/dev/null && cc="ccache $cc"
	# The build directory sits directly in the source tree, so kbuild uses
	# relative paths and ccache hits across clones of this repository.
	CCACHE_DIR=$RQ_CACHE/ccache CCACHE_BASEDIR=$RQ_OUT CCACHE_NOHASHDIR=1 \
		make -C "$TREE" O="build-$target" -j"$RQ_JOBS" "${vars[@]}" "CC=$cc" "$@"
}

# The fragments a target adds to tinyconfig, in this order: base.config;
# the architecture's (arch-x86.config for x86_64 and i386, then
# arch-ARCH.config where there is one); programs.config but for the demo
# kernel; then each of the flavour's own (debug is test.config then
# debug.config, clang is test.config, strict is kcsan.config then
# strict.config), each followed by
# its NAME-ARCH.config where there is one (test-x86_64.config, say).
config_fragments() {
	local arch flavour c f
	arch=$(target_arch "$1")
	flavour=$(target_flavour "$1")
	c=$RQ_SCRIPTS/config
	printf '%s\n' "$c/base.config"
	case "$arch" in x86_64|i386) printf '%s\n' "$c/arch-x86.config" ;; esac
	[ ! -f "$c/arch-$arch.config" ] || printf '%s\n' "$c/arch-$arch.config"
	[ "$flavour" = demo ] || printf '%s\n' "$c/programs.config"
	case "$flavour" in
	debug) set -- test debug ;;
	clang) set -- test ;;
	strict) set -- kcsan strict ;;
	*) set -- "$flavour" ;;
	esac
	for f in "$@"; do
		[ ! -f "$c/$f.config" ] || printf '%s\n' "$c/$f.config"
		[ ! -f "$c/$f-$arch.config" ] || printf '%s\n' "$c/$f-$arch.config"
	done
}

# The fragments' settings with a later fragment's line for a symbol
# replacing an earlier one's, as merge_config.sh does.
merged_settings() {
	sed -En 's/^(CONFIG_[A-Za-z0-9_]+)=.*/\1 &/p; s/^# (CONFIG_[A-Za-z0-9_]+) is not set$/\1 &/p' "$@" |
		awk '{ k = $1; sub(/^[^ ]+ /, ""); if (!(k in v)) o[++n] = k; v[k] = $0 }
		     END { for (i = 1; i <= n; i++) print v[o[i]] }'
}

# write_config FLAVOUR: tinyconfig plus the flavour's fragments, for the
# sources checked out in out/linux.
write_config() {
	local b frags=()
	b=$(flavour_dir "$1")
	mapfile -t frags < <(config_fragments "$1")
	mkdir -p "$b"
	kmake "$1" tinyconfig
	"$TREE/scripts/kconfig/merge_config.sh" -m -O "$b" "$b/.config" "${frags[@]}"
	kmake "$1" olddefconfig
}

configure() {
	local flavour=$1 b frags=() stamp line
	b=$(flavour_dir "$flavour")
	mapfile -t frags < <(config_fragments "$flavour")
	stamp=$(cat "${frags[@]}" "$TREE/.rq-series" | sha256sum | cut -d' ' -f1)
	if [ -f "$b/.config" ] && [ "$(cat "$b/.rq-config" 2>/dev/null)" = "$stamp" ]; then
		return
	fi
	write_config "$flavour"
	# Every option a fragment asks for must survive olddefconfig.
	while read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$b/.config" ||
			die "config: $line did not stick (a missing dependency?)" ;;
		'# CONFIG_'*' is not set')
			line=${line#\# }; line=${line% is not set}
			! grep -q "^$line=" "$b/.config" ||
				die "config: $line is still set" ;;
		esac
	done < <(merged_settings "${frags[@]}")
	echo "$stamp" >"$b/.rq-config"
}

cmd_build() {
	local target=${1:-release} b image ko
	valid_target "$target"
	cmd_deps
	arch_deps "$(target_arch "$target")"
	cmd_tree
	b=$(flavour_dir "$target")
	image=$(kernel_image "$(target_arch "$target")")
	run_logged "build-$target" "build $target: tinyconfig + scripts/config fragments, ${image##*/} and modules (cold: 4 to 12 minutes on 2 idle cores; with ccache: one to three)" -- \
		build_kernel "$target"
	rm -rf "${RQ_OUT:?}/$target"
	mkdir -p "$RQ_OUT/$target"
	cp "$b/$image" "$RQ_OUT/$target/"
	ko=$b/drivers/char/rustqueue.ko
	if grep -q '^CONFIG_RUSTQUEUE=m$' "$b/.config"; then
		cp "$ko" "$RQ_OUT/$target/"
		say "build $target: out/$target/${image##*/}, out/$target/rustqueue.ko"
	else
		say "build $target: out/$target/${image##*/} (the driver built in)"
	fi
}

build_kernel() {
	configure "$1"
	kmake "$1" "$(basename "$(kernel_image "$(target_arch "$1")")")" modules
}

cmd_menuconfig() {
	local flavour=${1:-release}
	valid_target "$flavour"
	arch_deps "$(target_arch "$flavour")"
	cmd_tree
	configure "$flavour"
	kmake "$flavour" menuconfig
}
