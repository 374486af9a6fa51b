# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/mutants.sh: the mutants ("rq mutants"): the driver broken on purpose, and the guest tests that must catch it.
# Sourced by scripts/rq.

# mutants: break the driver on purpose, one way at a time (scripts/mutants),
# and show that the guest tests catch each break: in the debug kernel with
# guest/check.sh, or in the flavour a mutant names with guest/FLAVOUR.sh.
cmd_mutants() {
	local name flavour target total=0 caught=0 rc first f=$TREE/drivers/char/rustqueue.c
	local built=" " script arch=x86_64
	if [ "${1:-}" = --arch ]; then
		arch=${2:-}
		[[ " $ARCHES " == *" $arch "* ]] || die "mutants: --arch ARCH, one of $ARCHES"
		shift 2
	fi
	cmd_selftests "$arch"
	trap 'git -C "$TREE" checkout -q -- drivers/char/rustqueue.c' EXIT
	while IFS=$'\t' read -r name flavour; do
		if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
		script=$RQ_SCRIPTS/guest/check.sh
		[ "$flavour" = debug ] || script=$RQ_SCRIPTS/guest/$flavour.sh
		target=$flavour
		[ "$arch" = x86_64 ] || target=$flavour-$arch
		if [[ "$built" != *" $target "* ]]; then
			git -C "$TREE" checkout -q -- drivers/char/rustqueue.c
			cmd_build "$target"
			built+="$target "
		fi
		total=$((total + 1))
		git -C "$TREE" checkout -q -- drivers/char/rustqueue.c
		mutate "$f" "$name" || die "mutant $name: its text is not in rustqueue.c any more: update scripts/mutants"
		rebuild_module "$target" "mutant-$name-build" "mutant $name: building ($target)"
		rc=0
		(RQ_APPEND="${RQ_APPEND:-} rq_failfast" cmd_boot "$target" "$script") >/dev/null 2>&1 || rc=$?
		cp "$LOGS/boot-$target.log" "$LOGS/mutant-$name.log"
		first=$({ grep -nE '^(# )*not ok' "$LOGS/mutant-$name.log" || true
			kernel_problems "$LOGS/mutant-$name.log" || true; } |
			sort -t: -k1,1n | sed -n '1s/^[0-9]*://p')
		if [ "$rc" -ne 0 ] || [ -n "$first" ]; then
			caught=$((caught + 1))
			pass "mutant $name caught ($target): ${first:-guest exit $rc}"
		else
			fail "mutant $name survived ($target); see $LOGS/mutant-$name.log"
		fi
	done < <(mutant_names)
	[ "$total" -gt 0 ] || die "mutants: scripts/mutants has no mutant named $*"
	git -C "$TREE" checkout -q -- drivers/char/rustqueue.c
	trap - EXIT
	for target in $built; do
		rebuild_module "$target" "mutant-restore-$target" "mutants: rebuilding the real driver ($target)"
	done
	say "mutants: $caught of $total caught"
}

# mutant_names: each mutant's name and flavour, once, in the file's order.
mutant_names() {
	awk -F '\t' '/^[^#]/ && NF >= 3 && !seen[$1]++ { print $1 "\t" ($4 == "" ? "debug" : $4) }' \
		"$RQ_SCRIPTS/mutants"
}

# mutate FILE NAME: make every replacement scripts/mutants lists for NAME.
mutate() {
	python3 - "$1" "$2" "$RQ_SCRIPTS/mutants" <<'PY'
import sys
path, name, mutants = sys.argv[1:4]
text = open(path).read()
for line in open(mutants):
    fields = line.rstrip('\n').split('\t')
    if line.startswith('#') or len(fields) < 3 or fields[0] != name:
        continue
    old, new = (t.replace('\\n', '\n').replace('\\t', '\t') for t in fields[1:3])
    if old not in text:
        sys.exit(1)
    text = text.replace(old, new, 1)
open(path, 'w').write(text)
PY
}

# rebuild_module FLAVOUR LOGNAME WHAT: rebuild rustqueue.ko alone into out/FLAVOUR.
rebuild_module() {
	run_logged "$2" "$3" -- kmake "$1" drivers/char/rustqueue.ko
	cp "$(flavour_dir "$1")/drivers/char/rustqueue.ko" "$RQ_OUT/$1/"
}
