# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/check.sh: "rq check": every step in turn, the guests' results counted, and the reliability line.
# Sourced by scripts/rq.

# The README shows what "rq demo" prints; dates aside, a fresh run must agree.
demo_matches_readme() {
	local out=$LOGS/demo.txt want=$LOGS/demo-readme.txt
	cmd_demo >"$out"
	sed -n '/^<!-- rq demo: begin -->$/,/^<!-- rq demo: end -->$/{/^<!-- rq demo/d;/^```/d;p}' \
		"$RQ_ROOT/README.md" >"$want"
	[ -s "$want" ] || die "demo: README.md has no transcript between the rq demo markers"
	diff -u <(undate <"$want") <(undate <"$out") >&2 ||
		die "demo: the README's transcript differs from this run's ($out): update README.md"
}

undate() { sed -E 's/[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}/<date>/'; }

# check [--all-arches]: see usage.
cmd_check() {
	local all=0 a
	for a in "$@"; do
		case "$a" in
		--all-arches) all=1 ;;
		*) die "check: unknown option '$a' (--all-arches)" ;;
		esac
	done
	step "deps" cmd_deps || true
	step "fetch and verify $PIN_PACKAGE $PIN_VERSION" cmd_fetch || { summary; return 1; }
	step "series applies with git am" cmd_tree || { summary; return 1; }
	step "no drift between patches/, quilt and the mirror folders" cmd_drift || true
	cmd_lint
	step "README: every line of rustqueue.c its code tour cites holds what it names" cmd_tour || true
	step "rq send --mbox: [PATCH vN M/N] subjects for the newest Changelog version, base-commit in the cover letter, threaded on the cover letter; git am of the mbox gives the tree of patches/; b4 am -m finds every patch; the next version wants a changelog entry" \
		mail_round_trip || true
	step "rq apply: applies onto the pristine tree; names patch 1 and undoes itself where it cannot apply" \
		apply_works || true
	step "rq demo in the release kernel prints the README's transcript" demo_matches_readme || true
	step "rq bench --quick: every transport, the 4x4 run, two queues side by side and the memory figures measured; results.tsv, table and chart written" \
		bench_quick || true
	rm -f "$LOGS"/check-*.log "$LOGS"/kunit-*.ktap
	SELFTESTS_BUILT=" "
	CHECKED=()
	# x86_64 in full: the debug guest, then the data race detector on the
	# same programs (KCSAN excludes KASAN).
	guest_check debug "$RQ_SCRIPTS/guest/check.sh" \
		"no BUG, WARNING, Oops, lockdep, KASAN, UBSAN, hung task or kmemleak report"
	guest_check kcsan "$RQ_SCRIPTS/guest/kcsan.sh" \
		"stress and fuzzing with no data race report with the driver in it (kcsan_sort)"
	# The other architectures and compilers run the same job, with shorter
	# long runs unless --all-arches: arm64's debug kernel, a big-endian
	# s390x, 32-bit x86, and a kernel built by clang.
	local long=$RQ_SHORT_RUN target
	[ "$all" -eq 0 ] || long=60
	for target in debug-arm64 test-s390x test-i386 clang; do
		guest_check "$target" "$RQ_SCRIPTS/guest/check.sh" \
			"no BUG, WARNING, Oops, lockdep, UBSAN or hung task report; stress and fuzzing ${long} s each" \
			"rq_long=$long"
	done
	if [ "$all" -eq 1 ]; then
		guest_check kcsan-arm64 "$RQ_SCRIPTS/guest/kcsan.sh" \
			"stress and fuzzing with no data race report with the driver in it (kcsan_sort)"
		guest_check strict "$RQ_SCRIPTS/guest/kcsan.sh" \
			"stress and fuzzing under KCSAN's strict mode, no data race report with the driver in it"
	fi
	reliability_figures | tee "$LOGS/reliability.txt"
	summary
	[ "$FAILED" -eq 0 ]
}

# guest_check TARGET SCRIPT WHAT [APPEND]: build TARGET's kernel and its
# architecture's selftests (once a run), boot it with SCRIPT as the job
# (APPEND added to the kernel command line) and count what it reports; the
# guest passes when SCRIPT succeeds and the kernel reported nothing (WHAT).
# The log stays as out/logs/check-TARGET.log.
guest_check() {
	local target=$1 script=$2 what=$3 append=${4:-} arch log rc=0
	arch=$(target_arch "$target")
	step "build $target kernel" cmd_build "$target" || return 0
	if [[ "$SELFTESTS_BUILT" != *" $arch "* ]]; then
		step "build selftests for $arch" cmd_selftests "$arch" || return 0
		SELFTESTS_BUILT+="$arch "
	fi
	log=$LOGS/check-$target.log
	rm -f "$LOGS/boot-$target.log"
	(RQ_APPEND="${RQ_APPEND:-} $append" cmd_boot "$target" "$script") || rc=$?
	# A boot that stopped before QEMU (a package, the user space) left no log.
	cp "$LOGS/boot-$target.log" "$log" 2>/dev/null || : >"$log"
	CHECKED+=("$target")
	if [ "${script##*/}" = check.sh ]; then
		count_guest_results "$log" "$target"
		kunit_results "$log" "$target"
		# Where a 64-bit kernel runs 32-bit programs, they must have run.
		if [ -n "$(compat_cc "$arch")" ]; then
			if grep -q '^ok [0-9]* shell\.kselftest_rustqueue_test_32bit$' "$log" &&
			   grep -q '^ok [0-9]* shell\.kselftest_rustqueue_batch_32bit$' "$log"; then
				pass "$target guest: the 32-bit (compat) programs ran"
			else
				fail "$target guest: the 32-bit (compat) programs did not run"
			fi
		fi
	fi
	if [ "$rc" -eq 0 ]; then
		pass "$target guest: $what"
	else
		fail "$target guest exited $rc; see $log"
	fi
}

# kunit_results LOG TARGET: the KUnit suite's KTAP, as the guest printed it
# from debugfs, parsed by the pinned tree's kunit.py; each case counts as a
# result.
kunit_results() {
	local ktap=$LOGS/kunit-$2.ktap line name=kunit
	[ "$2" = debug ] || name="kunit ($2)"
	sed -n '/^RQ-KUNIT-BEGIN$/,/^RQ-KUNIT-END$/{/^RQ-KUNIT-/d;p}' "$1" >"$ktap"
	if python3 "$TREE/tools/testing/kunit/kunit.py" parse "$ktap" >"$LOGS/kunit-$2.log" 2>&1 &&
	   grep -q 'Testing complete\. Ran [1-9][0-9]* tests: passed: [1-9]' "$LOGS/kunit-$2.log"; then
		pass "$name: kunit.py parse: $(grep -o 'Ran [0-9]* tests: .*' "$LOGS/kunit-$2.log")"
	else
		fail "$name: kunit.py parse of $ktap failed; see $LOGS/kunit-$2.log"
	fi
	while read -r line; do
		case "$line" in
		'not ok '*) fail "$name: ${line#not }" ;;
		'ok '*) pass "$name: ${line#ok }" ;;
		esac
	done < <(sed -En 's/^[[:space:]]+((not )?ok [0-9]+ rustqueue_test_[a-z0-9_]+.*)$/\1/p' "$ktap")
}

# One line of figures from the guests' logs: what the stress, fault, hostile
# and fuzz runs did, and how many reports the kernel's checkers made.
reliability_figures() {
	local d=$LOGS/check-debug.log k=$LOGS/check-kcsan.log
	local kunit stress faults leaks hostile fuzz kcsan reports races pollwake outside log
	kunit=$(grep -cE '^[[:space:]]+ok [0-9]+ rustqueue_test_' "$LOGS/kunit-debug.ktap" || true)
	kunit="$kunit of $(grep -cE '^[[:space:]]+(not )?ok [0-9]+ rustqueue_test_' "$LOGS/kunit-debug.ktap" || true) passed"
	stress=$(sed -En 's/^stress: ([0-9]+) messages .* ([0-9]+) queues, .*: ([0-9]+ lost, [0-9]+ duplicated, [0-9]+ reordered, [0-9]+ corrupt, [0-9]+ crossed), counters ([A-Za-z]+)$/\1 messages on \2 queues, \3, counters \4/p' "$d" | tail -n 1)
	faults=$(sed -En 's/^(# )+faults: .*: ([0-9]+) injected, ([0-9]+) survived, ([0-9]+) state changes$/\2 \4/p' "$d" |
		awk '{ i += $1; c += $2 } END { printf "%d injected, %d state changes", i, c }')
	leaks=$(sed -n 's/^kmemleak: \([0-9]*\) unreferenced objects$/\1/p' "$d")
	hostile=$(grep -cE '^(# )+ok [0-9]+ hostile\.|^ok [0-9]+ shell\.(non_root|rmmod|load_unload)' "$d" || true)
	fuzz=$(sed -En 's/^fuzz: [0-9]+ processes, ([0-9]+ s), (seed [0-9]+): ([0-9]+ calls), ([0-9]+) unexpected, queue ([A-Za-z]+)$/\1, \2, \3, \4 unexpected, queue \5/p' "$d" | tail -n 1)
	kcsan='' races='?' pollwake='?' outside='?' reports=0
	if [ -f "$k" ]; then
		kcsan=$(sed -En 's/^stress: ([0-9]+) messages .*$/\1 messages/p' "$k" | tail -n 1)
		races=$(kcsan_reports "$k" driver)
		pollwake=$(kcsan_reports "$k" pollwake)
		outside=$(( $(kcsan_reports "$k" outside) + $(kcsan_reports "$k" one-sided) ))
	fi
	for log in "$d" "$k"; do
		[ ! -f "$log" ] ||
			reports=$((reports + $({ kernel_problems "$log" dmesg || true; } | wc -l)))
	done
	printf 'reliability: kunit: %s; stress: %s; faults: %s, %s leaks; hostile: %s cases; fuzz: %s; kcsan stress: %s, %s data races in the driver (set aside: %s of the upstream pollwake race, %s outside the driver); sanitizer reports: %s' \
		"$kunit" "${stress:-none}" "$faults" "${leaks:-?}" "$hostile" "${fuzz:-none}" \
		"${kcsan:-none}" "$races" "$pollwake" "$outside" "$reports"
	for target in "${CHECKED[@]}"; do
		case "$target" in debug|kcsan) continue ;; esac
		printf '; %s' "$(guest_figures "$LOGS/check-$target.log")"
	done
	printf '\n'
}

# guest_figures LOG: one guest's figures, for the reliability line: its
# target, then KUnit, the kselftest and shell results, stress, fuzzing (or
# the KCSAN classes) and the kernel's reports.
guest_figures() {
	local log=$1 target ok all stress fuzz reports
	target=${log##*/check-}
	target=${target%.log}
	reports=$({ kernel_problems "$log" dmesg || true; } | wc -l)
	stress=$(sed -En 's/^stress: ([0-9]+) messages .* ([0-9]+) queues, .*: ([0-9]+) lost, ([0-9]+) duplicated, ([0-9]+) reordered, ([0-9]+) corrupt, ([0-9]+) crossed, counters ([A-Za-z]+)$/\1 messages, \3 lost, \4 duplicated, \5 reordered, \6 corrupt, \7 crossed, counters \8/p' "$log" | tail -n 1)
	if [[ "$(target_flavour "$target")" == @(kcsan|strict) ]]; then
		printf '%s: kcsan stress %s, %s data races in the driver, %s set aside; %s reports' \
			"$target" "${stress%%,*}" "$(kcsan_reports "$log" driver)" \
			"$(kcsan_sort "$log" | grep -vc '^driver	' || true)" "$reports"
		return
	fi
	ok=$(grep -cE '^(# )?ok [0-9]+ [a-z_]+\.[a-z0-9_]+' "$log" || true)
	all=$(grep -cE '^(# )?(not )?ok [0-9]+ [a-z_]+\.[a-z0-9_]+' "$log" || true)
	fuzz=$(sed -En 's/^fuzz: [0-9]+ processes, [0-9]+ s, seed [0-9]+: ([0-9]+) calls, ([0-9]+) unexpected, .*$/\1 calls, \2 unexpected/p' "$log" | tail -n 1)
	printf '%s: kunit %s of %s, tests %s of %s, stress %s, fuzz %s, %s reports' "$target" \
		"$(grep -cE '^[[:space:]]+ok [0-9]+ rustqueue_test_' "$LOGS/kunit-$target.ktap" 2>/dev/null || true)" \
		"$(grep -cE '^[[:space:]]+(not )?ok [0-9]+ rustqueue_test_' "$LOGS/kunit-$target.ktap" 2>/dev/null || true)" \
		"$ok" "$all" "${stress:-none}" "${fuzz:-none}" "$reports"
}

# count_guest_results LOG TARGET: the kselftest harness prints one "ok N
# name" or "not ok N name" per TEST_F, and guest/check.sh one per shell check.
count_guest_results() {
	local line name=guest
	[ "$2" = debug ] || name="guest $2"
	while read -r line; do
		case "$line" in
		'not ok '*|*'# SKIP'*) fail "$name: ${line#not }" ;;
		'ok '*) pass "$name: ${line#ok }" ;;
		esac
	done < <(sed -En 's/^(# )?((not )?ok [0-9]+ [a-z_]+\.[a-z0-9_]+.*)$/\2/p' "$1")
}
