# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/common.sh: messages, logged steps and the pass/fail tally that every command uses.
# Sourced by scripts/rq.

die() { printf 'rq: %s\n' "$*" >&2; exit 1; }

say() { printf 'rq: %s\n' "$*" >&2; }

# run_logged NAME WHAT -- CMD...: run CMD with its output in out/logs/NAME.log;
# on failure show the log's tail and stop. Says how long CMD took, so that a
# step's time can be read from any run's output.
run_logged() {
	local name=$1 what=$2 log rc=0 start=$SECONDS t
	shift 3
	mkdir -p "$LOGS"
	log=$LOGS/$name.log
	say "$what (log: ${log#"$RQ_ROOT"/})"
	("$@") >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log" >&2
		die "$name failed (exit $rc); full log: $log"
	fi
	t=$((SECONDS - start))
	say "$name: done in $((t / 60)) min $((t % 60)) s"
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		command -v sudo >/dev/null || die "not root and no sudo: run '$*' as root"
		sudo "$@"
	fi
}

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf 'ok     %s\n' "$*"; }

fail() { FAILED=$((FAILED + 1)); printf 'FAIL   %s\n' "$*"; }

# step NAME CMD...: a whole step that passes or fails as one.
step() {
	local name=$1 rc=0
	shift
	("$@") || rc=$?
	if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name (exit $rc)"; fi
	return "$rc"
}

summary() {
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
}
