# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/bench.sh: the benchmark ("rq bench").
# Sourced by scripts/rq.

# rq-bench includes the series' <linux/rustqueue.h> (struct rustqueue_record),
# installed as the selftests get it.
build_bench() {
	make -C "$TREE" O="$RQ_OUT/bench/headers" headers &&
	gcc -static -O2 -Wall -Wextra -Wno-unused-parameter -Werror \
		-isystem "$RQ_OUT/bench/headers/usr/include" \
		-o "$RQ_OUT/bench/rq-bench" "$RQ_SCRIPTS/bench/rq-bench.c" -luring
}

# bench [--quick] [--readme]: rq-bench (scripts/bench/rq-bench.c) in one
# boot of the release kernel; scripts/bench/report.py makes results.tsv and
# the table, gnuplot the chart.
cmd_bench() {
	local quick=0 readme=0 out=$RQ_OUT/bench a rc=0 log append=${RQ_APPEND:-}
	for a in "$@"; do
		case "$a" in
		--quick) quick=1 ;;
		--readme) readme=1 ;;
		*) die "bench: unknown option '$a' (--quick, --readme)" ;;
		esac
	done
	if [ "$quick" = 1 ]; then
		out=$RQ_OUT/bench/quick
		append+=" rq_bench=quick"
	fi
	# An idle vCPU that halts sleeps in the host, and waking it costs more
	# than a message: runs then split into fast and slow ones by whether a
	# side went idle (spreads up to 167%). Polling idle keeps the vCPUs
	# awake, as a busy real machine's would be (spreads under 30%).
	append+=" idle=poll"
	cmd_build release
	mkdir -p "$out"
	run_logged bench-build "bench: building scripts/bench/rq-bench.c (static, with liburing)" -- \
		build_bench
	say "bench: $([ "$quick" = 1 ] && echo 'one short run per measurement' || echo 'about 3 minutes')"
	(RQ_GUEST_BIN=$RQ_OUT/bench/rq-bench RQ_APPEND=$append \
		cmd_boot release "$RQ_SCRIPTS/guest/bench.sh") || rc=$?
	log=$LOGS/bench$([ "$quick" = 0 ] || echo -quick).log
	cp "$LOGS/boot-release.log" "$log"
	[ "$rc" -eq 0 ] || die "bench: the guest job failed (exit $rc); see $log"
	sed -n '/^RQ-BENCH-BEGIN$/,/^RQ-BENCH-END$/{/^RQ-BENCH-/d;p}' "$log" >"$out/raw.txt"
	python3 "$RQ_SCRIPTS/bench/report.py" "$out/raw.txt" "$out"
	gnuplot -e "data='$out/chart.dat'; batch='$out/chart-batch.dat'; out='$out/throughput.png'" \
		"$RQ_SCRIPTS/bench/chart.gp"
	say "bench: ${out#"$RQ_ROOT"/}/{results.tsv,table.md,throughput.png}"
	[ "$readme" = 1 ] || return 0
	cp "$out/throughput.png" "$RQ_SCRIPTS/bench/throughput.png"
	python3 - "$RQ_ROOT/README.md" "$out/table.md" <<'PY'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
begin, end = "<!-- rq bench: begin -->\n", "<!-- rq bench: end -->\n"
if text.count(begin) != 1 or text.count(end) != 1:
    sys.exit("rq: README.md has no single rq bench block")
head, rest = text.split(begin)
open(readme, "w").write(head + begin + table + end + rest.split(end)[1])
PY
	say "bench: README.md and scripts/bench/throughput.png updated"
}

# The benchmark's whole pipeline on one short run of each measurement: it
# must not rot, but a short run on a busy machine says nothing about speed.
bench_quick() {
	cmd_bench --quick >"$LOGS/bench-quick.txt"
}
