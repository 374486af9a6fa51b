# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/deps.sh: the Debian packages the scripts need, installed by name.
# Sourced by scripts/rq.

DEPS=(build-essential git flex bison bc cpio kmod rsync xz-utils libelf-dev libssl-dev
      python3 python3-ply python3-git codespell sparse quilt ccache qemu-system-x86 git-email b4
      busybox-static coreutils dash shellcheck libncurses-dev tmux gnuplot-nox
      coccinelle ocaml-nox clang lld llvm python3-sphinx liburing-dev
      # gcc -m32 -static for the 32-bit programs: what gcc-multilib would
      # bring, without it (Debian's gcc-multilib conflicts with the cross
      # compilers the other architectures need, and apt removes them).
      libc6-dev-i386 lib32gcc-12-dev
      # What git-email only recommends and apt-get --no-install-recommends
      # leaves out: send-email dies without Mail::Address (libmailtools-perl);
      # the others check addresses and speak SMTP over TLS for --really.
      libmailtools-perl libemail-valid-perl libnet-smtp-ssl-perl
      libauthen-sasl-perl libio-socket-ssl-perl)

apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get install -y -q --no-install-recommends "$@" && return 0
	as_root apt-get update -q || true
	as_root apt-get install -y -q --no-install-recommends "$@"
}

# missing_packages PKG...: those of the PKGs dpkg does not have installed.
missing_packages() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || printf '%s\n' "$p"
	done
}

cmd_deps() {
	local missing=()
	mapfile -t missing < <(missing_packages "${DEPS[@]}")
	if [ ${#missing[@]} -eq 0 ]; then
		say "deps: all ${#DEPS[@]} packages present"
		return
	fi
	run_logged deps "deps: installing ${missing[*]} (about a minute)" -- \
		apt_install "${missing[@]}"
}

# What building for and booting ARCH needs beyond DEPS: the cross compiler
# and QEMU's system emulator (with arm64, the 32-bit arm compiler for the
# compat programs).
arch_packages() {
	case "$1" in
	arm64) echo gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm \
		gcc-arm-linux-gnueabihf libc6-dev-armhf-cross ;;
	s390x) echo gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-system-misc ;;
	esac
}

arch_deps() {
	local missing=() packages=()
	read -ra packages <<<"$(arch_packages "$1")"
	mapfile -t missing < <(missing_packages "${packages[@]}")
	[ ${#missing[@]} -eq 0 ] ||
		run_logged "deps-$1" "deps: installing ${missing[*]} for $1 (a minute)" -- \
			apt_install "${missing[@]}"
}
