# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/build.sh: configuration and kernel builds, for each flavour and architecture.
# Sourced by scripts/rq.

flavour_dir() { printf '%s\n' "$TREE/build-$1"; }

kmake() {
	local flavour=$1 cc=gcc vars=()
	shift
	case "$flavour" in
	clang) cc=clang; vars=(LLVM=1) ;;
	i386) vars=(ARCH=i386) ;;
	esac
	command -v ccache >/dev/null && cc="ccache $cc"
	# The build directory sits directly in the source tree, so kbuild uses
	# relative paths and ccache hits across clones of this repository.
	CCACHE_DIR=$RQ_CACHE/ccache CCACHE_BASEDIR=$RQ_OUT CCACHE_NOHASHDIR=1 \
		make -C "$TREE" O="build-$flavour" -j"$RQ_JOBS" "${vars[@]}" "CC=$cc" "$@"
}

# The fragments a flavour adds to tinyconfig: base.config, then (but for the
# demo kernel) programs.config, then the flavour's own if it has one
# (release and clang have none).
config_fragments() {
	printf '%s\n' "$RQ_SCRIPTS/config/base.config"
	[ "$1" = demo ] || printf '%s\n' "$RQ_SCRIPTS/config/programs.config"
	[ ! -f "$RQ_SCRIPTS/config/$1.config" ] || printf '%s\n' "$RQ_SCRIPTS/config/$1.config"
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
	local flavour=${1:-release} b
	case "$flavour" in demo|release|debug|kcsan) ;; *) die "build: unknown flavour '$flavour' (demo|release|debug|kcsan)" ;; esac
	cmd_deps
	cmd_tree
	b=$(flavour_dir "$flavour")
	run_logged "build-$flavour" "build $flavour: tinyconfig + scripts/config fragments, bzImage and modules (cold: 4 to 8 minutes on 2 idle cores; with ccache: about a minute)" -- \
		build_kernel "$flavour"
	mkdir -p "$RQ_OUT/$flavour"
	cp "$b/arch/x86/boot/bzImage" "$b/drivers/char/rustqueue.ko" "$RQ_OUT/$flavour/"
	say "build $flavour: out/$flavour/bzImage, out/$flavour/rustqueue.ko"
}

build_kernel() {
	configure "$1"
	kmake "$1" bzImage modules
}

cmd_menuconfig() {
	local flavour=${1:-release}
	cmd_tree
	configure "$flavour"
	kmake "$flavour" menuconfig
}
