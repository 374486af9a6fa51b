# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/lint.sh: the static checkers of submit-checklist.rst ("rq lint"), the README code tour and shellcheck.
# Sourced by scripts/rq.

cmd_lint() {
	local p log b
	cmd_tree
	mkdir -p "$LOGS"
	# The series adds MAINTAINERS in its last patch: checkpatch, which sees one
	# patch at a time, would ask "does MAINTAINERS need updating?" of the
	# earlier ones. Instead, every added file must map to the rustqueue entry.
	while read -r p; do
		log=$LOGS/checkpatch-${p##*/}.log
		# Debian's python3 first: spdxcheck.py needs its python3-ply, and
		# checkpatch finds codespell's dictionary through it.
		if (cd "$TREE" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict \
			--codespell --showfile --ignore FILE_PATH_CHANGES "$p") >"$log" 2>&1 &&
		   ! grep -q 'Traceback\|No codespell typos will be found' "$log"; then
			pass "checkpatch --strict ${p##*/}"
		else
			cat "$log" >&2
			fail "checkpatch --strict ${p##*/}"
		fi
	done < <(series_files)
	while read -r p; do
		if [[ "$(cd "$TREE" && ./scripts/get_maintainer.pl --no-git --no-rolestats -f "$p")" == *rustqueue* ]]; then
			pass "MAINTAINERS covers $p"
		else
			fail "MAINTAINERS covers $p"
		fi
	done < <(added_files)

	b=debug
	cmd_build "$b" >/dev/null
	driver_builds_clean "$b" sparse "sparse (C=2) and W=1 with gcc" C=2 W=1
	patches_build_alone "$b"
	menuconfig_shows_driver "$b"
	make -s -C "$TREE/tools/testing/selftests" -pn >"$LOGS/selftests-make-db.txt" 2>&1 || true
	if grep -q '^TARGETS :\?= .*\brustqueue\b' "$LOGS/selftests-make-db.txt"; then
		pass "rustqueue is in the default TARGETS of tools/testing/selftests"
	else
		fail "rustqueue is in the default TARGETS of tools/testing/selftests"
	fi
	local kdoc=(drivers/char/rustqueue.c include/uapi/linux/rustqueue.h drivers/char/rustqueue_trace.h)
	if (cd "$TREE" && ./scripts/kernel-doc -none -Wall "${kdoc[@]}") >"$LOGS/kernel-doc.log" 2>&1 &&
	   [ ! -s "$LOGS/kernel-doc.log" ]; then
		pass "kernel-doc -none -Wall ${kdoc[*]}"
	else
		cat "$LOGS/kernel-doc.log" >&2
		fail "kernel-doc -none -Wall ${kdoc[*]}"
	fi
	abi_describes_sysfs
	step "shellcheck: $(shell_scripts | wc -l | tr -d ' ') shell scripts under scripts/ and .ci/" run_shellcheck || true
	lint_coccicheck
	lint_htmldocs
	lint_builds
	uapi_layouts_agree
}

# lint_build FLAVOUR TARGET...: configure the FLAVOUR build directory from
# its fragments and make TARGETs, logging to out/logs/build-FLAVOUR.log.
lint_build() {
	local flavour=$1
	shift
	(configure "$flavour" && kmake "$flavour" "$@") >"$LOGS/build-$flavour.log" 2>&1 && return
	tail -n 30 "$LOGS/build-$flavour.log" >&2
	return 1
}

# driver_builds_clean FLAVOUR LOG WHAT MAKE_ARG...: compile the driver anew in
# FLAVOUR's build directory with MAKE_ARGs (W=1, C=2); pass when neither the
# compiler nor sparse says anything (out/logs/LOG.log).
driver_builds_clean() {
	local flavour=$1 log=$LOGS/$2.log what=$3 rc=0
	shift 3
	rm -f "$(flavour_dir "$flavour")/drivers/char/rustqueue.o"
	kmake "$flavour" "$@" drivers/char/rustqueue.o >"$log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && ! grep -E 'warning|error' "$log" >&2; then
		pass "$what: drivers/char/rustqueue.c, no warning"
	else
		tail -n 30 "$log" >&2
		fail "$what: drivers/char/rustqueue.c; log: $log"
	fi
}

# The driver in every shape a kernel can have it: built in (=y), as a module
# (=m: the release and debug kernels), left out (=n), for i386, and by clang.
lint_builds() {
	local b
	b=$(flavour_dir builtin)
	# CONFIG_UAPI_HEADER_TEST compiles each exported header on its own,
	# with the user-space compiler, as part of that build: made anew.
	rm -f "$b/usr/include/linux/rustqueue.hdrtest"
	if lint_build builtin vmlinux &&
	   ar t "$b/drivers/char/built-in.a" | grep -q 'drivers/char/rustqueue\.o$' &&
	   [ ! -e "$b/drivers/char/rustqueue.ko" ]; then
		pass "CONFIG_RUSTQUEUE=y: vmlinux links with the driver built in"
	else
		fail "CONFIG_RUSTQUEUE=y; log: $LOGS/build-builtin.log"
	fi
	if [ -f "$b/usr/include/linux/rustqueue.hdrtest" ]; then
		pass "CONFIG_UAPI_HEADER_TEST: <linux/rustqueue.h> compiles on its own"
	else
		fail "CONFIG_UAPI_HEADER_TEST: no usr/include/linux/rustqueue.hdrtest; log: $LOGS/build-builtin.log"
	fi
	b=$(flavour_dir off)
	if lint_build off vmlinux modules &&
	   ! find "$b/drivers/char" -name 'rustqueue*.o' | grep -q .; then
		pass "CONFIG_RUSTQUEUE=n: the kernel and modules build, nothing of the driver compiled"
	else
		fail "CONFIG_RUSTQUEUE=n; log: $LOGS/build-off.log"
	fi
	if lint_build test-i386 bzImage modules && [ -f "$(flavour_dir test-i386)/drivers/char/rustqueue.ko" ]; then
		pass "ARCH=i386: bzImage and rustqueue.ko build and link (modpost: no undefined symbol)"
		driver_builds_clean test-i386 w1-i386 "ARCH=i386, W=1" W=1
	else
		fail "ARCH=i386; log: $LOGS/build-test-i386.log"
	fi
	if lint_build clang bzImage modules; then
		driver_builds_clean clang w1-clang "clang (LLVM=1), W=1" W=1
	else
		fail "clang (LLVM=1): bzImage and modules; log: $LOGS/build-clang.log"
	fi
	# The other architectures' guests' kernels, cross-compiled: 64-bit
	# arm (weakly ordered) and s390x (big-endian).
	local target
	arch_deps arm64
	arch_deps s390x
	for target in debug-arm64 test-s390x; do
		if lint_build "$target" "$(basename "$(kernel_image "$(target_arch "$target")")")" modules; then
			pass "ARCH=$(target_arch "$target") ($target): the kernel and rustqueue.ko build and link"
			driver_builds_clean "$target" "w1-$target" "ARCH=$(target_arch "$target"), W=1" W=1
		else
			fail "ARCH=$(target_arch "$target") ($target); log: $LOGS/build-$target.log"
		fi
	done
	# The module as users build it: the release kernel's (rq demo's too).
	if (cmd_build release) >/dev/null; then
		checkstack release drivers/char/rustqueue.ko
	else
		fail "checkstack.pl (release): the release build failed"
	fi
	checkstack test-i386 drivers/char/rustqueue.ko
	checkstack clang drivers/char/rustqueue.o
	checkstack test-s390x drivers/char/rustqueue.ko
}

# checkstack TARGET OBJECT: scripts/checkstack.pl on the driver as TARGET
# built it; no function may use more than 256 bytes of stack (on s390x that
# includes the 160-byte register save area every frame has).
checkstack() {
	local flavour=$1 arch obj max=256 out big objdump
	arch=$(target_arch "$1")
	objdump=$(cross_prefix "$arch")objdump
	obj=$(flavour_dir "$1")/$2
	[ -f "$obj" ] || { fail "checkstack.pl ($flavour): $obj was not built"; return; }
	# The KUnit cases (rustqueue_test_*, in the test kernels' modules only)
	# are not the driver: their frames hold KUnit's expectation records.
	out=$("$objdump" -d "$obj" | perl "$TREE/scripts/checkstack.pl" "$arch" 0 |
		grep -v ' rustqueue_test_[a-z0-9_]* ') ||
		{ fail "checkstack.pl ($flavour) failed"; return; }
	printf '%s\n' "$out" >"$LOGS/checkstack-$flavour.txt"
	# The size is the digits after the last colon: checkstack.pl pads
	# with tabs only up to a width, so a long name leaves no space before it.
	big=$(printf '%s\n' "$out" | awk -v max="$max" '{ n = $0; sub(/.*:[ \t]*/, "", n) } n + 0 > max')
	if [ -n "$out" ] && [ -z "$big" ]; then
		pass "checkstack.pl ($flavour, $arch): none over $max bytes (largest: $(printf '%s\n' "$out" | head -n 1 | awk '{ n = $0; sub(/.*:[ \t]*/, "", n); print $2, n }') bytes)"
	else
		printf '%s\n' "${big:-(no output)}" >&2
		fail "checkstack.pl ($flavour, $arch): frames over $max bytes"
	fi
}

# make coccicheck with every semantic patch of the pinned tree, on the
# driver only; a finding is a line naming rustqueue.c.
lint_coccicheck() {
	local log=$LOGS/coccicheck.log rc=0 n
	kmake debug coccicheck MODE=report M="$TREE/drivers/char/rustqueue.c" >"$log" 2>&1 || rc=$?
	n=$(grep -c '^/usr/bin/spatch .*--cocci-file' "$log" || true)
	if [ "$rc" -eq 0 ] && [ "$n" -gt 0 ] && ! grep 'rustqueue\.c:[0-9]' "$log" >&2; then
		pass "coccicheck MODE=report: $n semantic patches, no finding in drivers/char/rustqueue.c"
	else
		tail -n 20 "$log" >&2
		fail "coccicheck MODE=report on drivers/char/rustqueue.c; log: $log"
	fi
}

# The userspace-api book with Sphinx: our page is built, its kernel-doc of
# the uapi header included, and no warning names a file of ours.
lint_htmldocs() {
	local log=$LOGS/htmldocs.log rc=0 html
	html=$TREE/build-docs/Documentation/output/userspace-api/rustqueue.html
	# From scratch (half a minute): Sphinx repeats a page's warnings only
	# when it reads the page again.
	rm -rf "$TREE/build-docs/Documentation/output"
	make -C "$TREE" O=build-docs SPHINXDIRS=userspace-api htmldocs >"$log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && grep -q 'rustqueue_info' "$html" 2>/dev/null &&
	   ! grep -iE 'warning|error' "$log" | grep -i rustqueue >&2; then
		pass "make SPHINXDIRS=userspace-api htmldocs: rustqueue.html built, no warning from our files"
	else
		tail -n 20 "$log" >&2
		fail "make SPHINXDIRS=userspace-api htmldocs; log: $log"
	fi
}

# The ABI file parses, and describes every attribute the driver creates.
abi_describes_sysfs() {
	local abi=Documentation/ABI/testing/sysfs-class-misc-rustqueue attrs a missing=()
	attrs=$(sed -n 's/^static DEVICE_ATTR_R[OW](\([a-z_]*\));$/\1/p' "$TREE/drivers/char/rustqueue.c")
	[ -n "$attrs" ] || { fail "the ABI file describes every sysfs attribute (none found in the driver)"; return; }
	(cd "$TREE" && ./scripts/get_abi.pl validate) >"$LOGS/get_abi.log" 2>&1 || missing+=("(get_abi.pl validate failed)")
	! grep -q rustqueue "$LOGS/get_abi.log" || missing+=("(get_abi.pl validate warns)")
	for a in $attrs; do
		(cd "$TREE" && ./scripts/get_abi.pl search "/sys/class/misc/rustqueue/$a\$") 2>&1 |
			grep -q "Defined on file(s):.*$abi" || missing+=("$a")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		pass "get_abi.pl: $abi parses and describes $(echo "$attrs" | wc -w) attributes"
	else
		cat "$LOGS/get_abi.log" >&2
		fail "get_abi.pl: $abi lacks ${missing[*]}"
	fi
}

# Every patch builds on its own: check out each commit of the series in turn
# and build the driver's module and the selftests there.
patches_build_alone() {
	local flavour=$1 c i=0 n log rc
	n=$(git -C "$TREE" rev-list --count "$BASE_TAG..$BRANCH")
	for c in $(git -C "$TREE" rev-list --reverse "$BASE_TAG..$BRANCH"); do
		i=$((i + 1))
		log=$LOGS/patch-$i-build.log
		rc=0
		git -C "$TREE" checkout -q "$c"
		{
			# The fragments again: an option a later patch adds (say, its
			# KUnit tests) must be on when that patch is built.
			# The driver's module alone, modpost included: the series
			# touches nothing else that compiles.
			write_config "$flavour" && kmake "$flavour" drivers/char/rustqueue.ko &&
			if [ -d "$TREE/tools/testing/selftests/rustqueue" ]; then
				make_selftests "$RQ_OUT/kselftest-patch-build" x86_64 all
			fi
		} >"$log" 2>&1 || rc=$?
		if [ "$rc" -eq 0 ]; then
			pass "patch $i/$n builds on its own ($(git -C "$TREE" log -1 --format=%s "$c"))"
		else
			tail -n 20 "$log" >&2
			fail "patch $i/$n builds on its own; log: $log"
		fi
	done
	git -C "$TREE" checkout -q "$BRANCH"
	# The build directory was configured for older commits: configure anew.
	rm -f "$(flavour_dir "$flavour")/.rq-config"
	rm -rf "$RQ_OUT/kselftest-patch-build"
}

# menuconfig_shows_driver FLAVOUR: a user who searches menuconfig for
# RUSTQUEUE finds it under Device Drivers -> Character devices, as a module.
menuconfig_shows_driver() {
	local flavour=$1 s=rq-menuconfig-$$ screen=$LOGS/menuconfig.txt i
	tmux kill-session -t "$s" 2>/dev/null || true
	tmux new-session -d -s "$s" -x 160 -y 50 \
		"make -s -C '$TREE' O=build-$flavour menuconfig; sleep 30"
	for i in $(seq 1 60); do
		tmux capture-pane -p -t "$s" | grep -q 'Linux/x86' && break
		sleep 0.5
	done
	tmux send-keys -t "$s" / && sleep 1
	tmux send-keys -t "$s" RUSTQUEUE Enter && sleep 2
	tmux capture-pane -p -t "$s" >"$screen"
	tmux kill-session -t "$s" 2>/dev/null || true
	if grep -q 'Symbol: RUSTQUEUE \[=m\]' "$screen" &&
	   grep -q 'Prompt: rustqueue bounded FIFO message queue device' "$screen" &&
	   grep -q -- '-> Device Drivers' "$screen" &&
	   grep -q -- '-> Character devices' "$screen"; then
		pass "menuconfig finds RUSTQUEUE [=m] under Device Drivers -> Character devices"
	else
		cat "$screen" >&2
		fail "menuconfig finds RUSTQUEUE [=m] under Device Drivers -> Character devices"
	fi
}

# cmd_tour [--fix]: the README's code tour cites the driver as links
# [`name()`](drivers-char-rustqueue/drivers/char/rustqueue.c#LN); each line
# N must still hold the definition of what the link names (a function, a
# "struct name", or a variable). --fix rewrites every N to where the
# definition is now.
cmd_tour() {
	python3 - "$RQ_ROOT" "${1:-}" <<'PY'
import re, sys
root, fix = sys.argv[1], sys.argv[2] == "--fix"
path = "drivers-char-rustqueue/drivers/char/rustqueue.c"
lines = open("%s/%s" % (root, path)).read().split("\n")
readme = open(root + "/README.md").read()
link = re.compile(r"\[`([^`]+)`\]\(" + re.escape(path) + r"#L(\d+)\)")

def holds(name, line):
    if line.rstrip().endswith(";"):
        return False
    if name.startswith("struct "):
        return re.match(r"^%s \{$" % re.escape(name), line) is not None
    bare = name[:-2] if name.endswith("()") else name
    pat = r"\b%s\(" if name.endswith("()") else r"\b%s\b"
    return re.match(r"^[a-z_].*" + pat % re.escape(bare), line) is not None

bad, fixed, n = [], [], 0
def check(m):
    global n
    n += 1
    name, num = m.group(1), int(m.group(2))
    if 0 < num <= len(lines) and holds(name, lines[num - 1]):
        return m.group(0)
    where = [i + 1 for i, l in enumerate(lines) if holds(name, l)]
    if fix and len(where) == 1:
        fixed.append(name)
        return m.group(0).replace("#L%d)" % num, "#L%d)" % where[0])
    bad.append("%s:%d does not define %s (defined at: %s)" %
               (path, num, name, ", ".join(map(str, where)) or "nowhere"))
    return m.group(0)

out = link.sub(check, readme)
if n == 0:
    sys.exit("tour: README.md cites no line of " + path)
if fix and out != readme:
    open(root + "/README.md", "w").write(out)
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit("tour: %d of %d citations are stale ('scripts/rq tour --fix' updates them)" % (len(bad), n))
print("tour: %d citations of %s hold%s" % (n, path, fixed and " (renumbered: %s)" % ", ".join(fixed) or ""))
PY
}

# Every shell script under scripts/ and .ci/: a file whose first line runs a
# shell (scripts/pin, which has none, is found through its shellcheck line).
shell_scripts() {
	local f
	(cd "$RQ_ROOT" && find scripts .ci -type f | LC_ALL=C sort) | while read -r f; do
		if head -n 1 "$RQ_ROOT/$f" | grep -Eq '^#!.*[/ ](ba|da)?sh$' ||
		   head -n 5 "$RQ_ROOT/$f" | grep -q '^# shellcheck shell='; then
			printf '%s\n' "$f"
		fi
	done
}

run_shellcheck() {
	local files=()
	mapfile -t files < <(shell_scripts)
	[ ${#files[@]} -gt 5 ] || { say "shellcheck: only ${#files[@]} scripts found"; return 1; }
	(cd "$RQ_ROOT" && shellcheck -x "${files[@]}")
}

# The ABI's layout on every architecture built, and arm's for arm64's
# compat programs: each struct's size and its fields' offsets, and each
# constant of <linux/rustqueue.h> (the ioctl numbers encode the sizes),
# made known by the compiler for that architecture with the kernel's
# asm-offsets trick (an "i" operand printed into the assembly) and compared.
# The list is made from the header, so a new field or ioctl is in it.
uapi_layouts_agree() {
	local h=$TREE/include/uapi/linux/rustqueue.h dir=$RQ_OUT/uapi src arch cc vars=() n ref='' bad=()
	arch_deps arm64
	arch_deps s390x
	mkdir -p "$dir"
	src=$dir/layout.c
	{
		printf '#include <stddef.h>\n#include <linux/rustqueue.h>\n'
		printf '#define SHOW(name, val) asm volatile("\\n.ascii \\"->" #name " %%0\\"" : : "i" (val))\n'
		printf 'void layout(void);\nvoid layout(void)\n{\n'
		awk '/^struct [a-z_]+ \{$/ { s = $2; printf "\tSHOW(sizeof_%s, sizeof(struct %s));\n", s, s; next }
		     s != "" && /^\};/ { s = ""; next }
		     s != "" && /^\t__[us](8|16|32|64) [a-z_]+(\[[0-9]+\])?;$/ {
			f = $2; sub(/[[;].*/, "", f)
			printf "\tSHOW(%s_%s, offsetof(struct %s, %s));\n", s, f, s, f }
		     /^#define RUSTQUEUE_[A-Z_]+[ \t]/ { printf "\tSHOW(%s, %s);\n", $2, $2 }' "$h"
		for n in 0 1 8 4096; do
			printf '\tSHOW(RUSTQUEUE_RECORD_SIZE_%s, RUSTQUEUE_RECORD_SIZE(%s));\n' "$n" "$n"
		done
		printf '}\n'
	} >"$src"
	for arch in x86_64 i386 arm64 arm s390x; do
		case "$arch" in
		x86_64) cc="gcc"; vars=() ;;
		i386) cc="gcc -m32"; vars=(ARCH=i386) ;;
		arm64) cc=aarch64-linux-gnu-gcc; vars=(ARCH=arm64) ;;
		arm) cc=arm-linux-gnueabihf-gcc; vars=(ARCH=arm) ;;
		s390x) cc=s390x-linux-gnu-gcc; vars=(ARCH=s390) ;;
		esac
		if ! { make -s -C "$TREE" O="$dir/$arch" "${vars[@]}" headers &&
		       $cc -S -O2 -Wall -Werror -isystem "$dir/$arch/usr/include" -o "$dir/$arch.s" "$src"; } \
		       >"$LOGS/uapi-$arch.log" 2>&1; then
			bad+=("$arch (did not compile; $LOGS/uapi-$arch.log)")
			continue
		fi
		# A 32-bit compiler prints an ioctl number with its top bit set as
		# a negative int: the same 32 bits.
		sed -n 's/^.*\.ascii.*"->\([A-Za-z0-9_]*\) [$#]*\(-*[0-9]*\)".*$/\1 \2/p' "$dir/$arch.s" |
			awk '{ if ($2 < 0) $2 = sprintf("%.0f", $2 + 4294967296); print }' >"$dir/$arch.txt"
		if [ "$arch" = x86_64 ]; then
			ref=$dir/$arch.txt
		elif ! diff -u "$ref" "$dir/$arch.txt" >"$LOGS/uapi-$arch.diff"; then
			bad+=("$arch ($LOGS/uapi-$arch.diff)")
		fi
	done
	n=$(wc -l <"$ref" 2>/dev/null || echo 0)
	if [ ${#bad[@]} -eq 0 ] && [ "$n" -gt 10 ] &&
	   [ "$n" -eq "$(grep -c '^	SHOW(' "$src")" ]; then
		pass "uapi layout: $n sizes, offsets and constants of <linux/rustqueue.h> agree on x86_64, i386, arm64, arm (compat) and s390x"
	else
		fail "uapi layout: $n values; differs or failed: ${bad[*]:-none} (out/uapi/layout.c)"
	fi
}
