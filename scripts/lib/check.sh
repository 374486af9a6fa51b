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

cmd_check() {
	local rc=0 log
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
	rm -f "$LOGS/check-debug.log" "$LOGS/check-kcsan.log"
	if step "build debug kernel" cmd_build debug && step "build selftests" cmd_selftests; then
		log=$LOGS/check-debug.log
		(cmd_boot debug "$RQ_SCRIPTS/guest/check.sh") || rc=$?
		cp "$LOGS/boot-debug.log" "$log"
		count_guest_results "$log"
		kunit_results "$log"
		if [ "$rc" -eq 0 ]; then
			pass "debug guest: no BUG, WARNING, Oops, lockdep, KASAN, UBSAN, hung task or kmemleak report"
		else
			fail "debug guest exited $rc; see $log"
		fi
		# The data race detector, on the same programs (KCSAN excludes KASAN).
		rc=0
		if step "build kcsan kernel" cmd_build kcsan; then
			(cmd_boot kcsan "$RQ_SCRIPTS/guest/kcsan.sh") || rc=$?
			cp "$LOGS/boot-kcsan.log" "$LOGS/check-kcsan.log"
			if [ "$rc" -eq 0 ]; then
				pass "kcsan guest: stress and fuzzing with no data race report with the driver in it (kcsan_sort)"
			else
				fail "kcsan guest exited $rc; see $LOGS/check-kcsan.log"
			fi
		fi
		reliability_figures | tee "$LOGS/reliability.txt"
	fi
	summary
	[ "$FAILED" -eq 0 ]
}

# The KUnit suite's KTAP, as the guest printed it from debugfs, parsed by
# the pinned tree's kunit.py; each case counts as a result.
kunit_results() {
	local ktap=$LOGS/kunit.ktap line
	sed -n '/^RQ-KUNIT-BEGIN$/,/^RQ-KUNIT-END$/{/^RQ-KUNIT-/d;p}' "$1" >"$ktap"
	if python3 "$TREE/tools/testing/kunit/kunit.py" parse "$ktap" >"$LOGS/kunit.log" 2>&1 &&
	   grep -q 'Testing complete\. Ran [1-9][0-9]* tests: passed: [1-9]' "$LOGS/kunit.log"; then
		pass "kunit: kunit.py parse: $(grep -o 'Ran [0-9]* tests: .*' "$LOGS/kunit.log")"
	else
		fail "kunit: kunit.py parse of $ktap failed; see $LOGS/kunit.log"
	fi
	while read -r line; do
		case "$line" in
		'not ok '*) fail "kunit: ${line#not }" ;;
		'ok '*) pass "kunit: ${line#ok }" ;;
		esac
	done < <(sed -En 's/^[[:space:]]+((not )?ok [0-9]+ rustqueue_test_[a-z0-9_]+.*)$/\1/p' "$ktap")
}

# One line of figures from the guests' logs: what the stress, fault, hostile
# and fuzz runs did, and how many reports the kernel's checkers made.
reliability_figures() {
	local d=$LOGS/check-debug.log k=$LOGS/check-kcsan.log
	local kunit stress faults leaks hostile fuzz kcsan reports races pollwake outside log
	kunit=$(grep -cE '^[[:space:]]+ok [0-9]+ rustqueue_test_' "$LOGS/kunit.ktap" || true)
	kunit="$kunit of $(grep -cE '^[[:space:]]+(not )?ok [0-9]+ rustqueue_test_' "$LOGS/kunit.ktap" || true) passed"
	stress=$(sed -En 's/^stress: ([0-9]+) messages .* ([0-9]+) queues, .*: ([0-9]+ lost, [0-9]+ duplicated, [0-9]+ reordered, [0-9]+ corrupt, [0-9]+ crossed), counters ([A-Za-z]+)$/\1 messages on \2 queues, \3, counters \4/p' "$d" | tail -n 1)
	faults=$(sed -En 's/^(# )+faults: .*: ([0-9]+) injected, ([0-9]+) survived, ([0-9]+) state changes$/\2 \4/p' "$d" |
		awk '{ i += $1; c += $2 } END { printf "%d injected, %d state changes", i, c }')
	leaks=$(sed -n 's/^kmemleak: \([0-9]*\) unreferenced objects$/\1/p' "$d")
	hostile=$(grep -cE '^(# )+ok [0-9]+ hostile\.|^ok [0-9]+ shell\.(non_root|rmmod|load_unload)' "$d" || true)
	fuzz=$(sed -En 's/^fuzz: [0-9]+ processes, ([0-9]+ s), (seed [0-9]+): ([0-9]+ calls), ([0-9]+) unexpected, queue ([A-Za-z]+)$/\1, \2, \3, \4 unexpected, queue \5/p' "$d" | tail -n 1)
	kcsan='' races='?' pollwake='?' outside='?' reports=0
	if [ -f "$k" ]; then
		kcsan=$(sed -En 's/^stress: ([0-9]+) messages .*$/\1 messages/p' "$k" | tail -n 1)
		races=$(( $(kcsan_reports "$k" driver) + $(kcsan_reports "$k" unknown) ))
		pollwake=$(kcsan_reports "$k" pollwake)
		outside=$(( $(kcsan_reports "$k" outside) + $(kcsan_reports "$k" upstream) ))
	fi
	for log in "$d" "$k"; do
		[ ! -f "$log" ] ||
			reports=$((reports + $({ kernel_problems "$log" dmesg || true; } | wc -l)))
	done
	printf 'reliability: kunit: %s; stress: %s; faults: %s, %s leaks; hostile: %s cases; fuzz: %s; kcsan stress: %s, %s data races in the driver (set aside: %s of the upstream pollwake race, %s outside the driver); sanitizer reports: %s\n' \
		"$kunit" "${stress:-none}" "$faults" "${leaks:-?}" "$hostile" "${fuzz:-none}" \
		"${kcsan:-none}" "$races" "$pollwake" "$outside" "$reports"
}

# The kselftest harness prints one "ok N name" or "not ok N name" per TEST_F.
count_guest_results() {
	local line
	while read -r line; do
		case "$line" in
		'not ok '*|*'# SKIP'*) fail "guest: ${line#not }" ;;
		'ok '*) pass "guest: ${line#ok }" ;;
		esac
	done < <(sed -En 's/^(# )?((not )?ok [0-9]+ [a-z_]+\.[a-z0-9_]+.*)$/\2/p' "$1")
}
