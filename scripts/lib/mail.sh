# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/mail.sh: the series as mail ("rq send", "rq apply") and the round trips "rq check" makes of both.
# Sourced by scripts/rq.

# send [--mbox FILE|--really] [--as-me] [-v N]: see usage.
cmd_send() {
	# shellcheck disable=SC2153 # BRANCH is scripts/rq's
	local mbox='' really=0 as_me=0 version='' branch=$BRANCH dir rc=0
	local to=() cc=() mode=(--dry-run --confirm=never)
	local name=$PROJECT_NAME email=$PROJECT_EMAIL
	while [ $# -gt 0 ]; do
		case "$1" in
		--mbox) [ $# -ge 2 ] || die "send: --mbox needs a file"; mbox=$(realpath -m "$2"); shift ;;
		--really) really=1 ;;
		--as-me) as_me=1 ;;
		-v) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "send: -v needs a version number"; version=$2; shift ;;
		*) die "send: unknown option '$1' (--mbox FILE, --really, --as-me, -v N)" ;;
		esac
		shift
	done
	[ -z "$mbox" ] || [ "$really" = 0 ] || die "send: --mbox and --really exclude each other"
	cmd_tree
	# By default the newest version the Changelog describes.
	[ -n "$version" ] || version=$(changelog_versions | sort -n | tail -n 1)
	changelog_has "$version" ||
		die "send: the cover letter's Changelog has no 'v$version:' entry: say what changed since v$((version - 1)) (git -C out/linux branch --edit-description rustqueue, then scripts/rq export)"
	if [ "$as_me" = 1 ]; then
		if ! name=$(git -C "$TREE" config user.name) || ! email=$(git -C "$TREE" config user.email); then
			die "send: --as-me needs git's user.name and user.email set"
		fi
		as_me_branch || die "send: re-authoring the series failed"
		branch=rq-send
	fi
	dir=$RQ_OUT/send/v$version
	rm -rf "$dir"
	# The threading is format-patch's: every patch answers the cover letter.
	GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email \
	git -C "$TREE" -c core.abbrev=12 format-patch -q --cover-letter --cover-from-description=subject \
		-v "$version" --thread=shallow --base="$BASE_TAG" -o "$dir" "$BASE_TAG..$branch" >/dev/null
	# To: the maintainers of what the series touches; Cc: their lists and
	# linux-api, for the new uapi header. Without keyword matches: the
	# series names the Rust module it comes from, which is not Rust code.
	mapfile -t to < <(maintainers "$dir" --nol)
	mapfile -t cc < <(maintainers "$dir" --nom --nor; echo linux-api@vger.kernel.org)
	if [ -n "$mbox" ]; then
		mode=(--confirm=never --sendmail-cmd="$RQ_SCRIPTS/rq mbox-append '$mbox'")
		: >"$mbox"
	elif [ "$really" = 1 ]; then
		mode=()
	fi
	git send-email "${mode[@]}" --no-thread --from="$name <$email>" --8bit-encoding=UTF-8 \
		"${to[@]/#/--to=}" "${cc[@]/#/--cc=}" "$dir"/*.patch || rc=$?
	[ "$as_me" = 0 ] || git -C "$TREE" branch -q -D rq-send
	[ "$rc" -eq 0 ] || die "send: git send-email failed (exit $rc)"
	say "send: $(find "$dir" -name '*.patch' | wc -l) mails from $dir$([ -z "$mbox" ] || echo " written to $mbox")$([ "$really" = 1 ] || [ -n "$mbox" ] || echo ' (dry run: --really sends)')"
}

# changelog_versions: N for each "vN:" entry of the cover letter's
# "Changelog:" section (what changed in version N; v1: the first posting).
changelog_versions() {
	git -C "$TREE" config "branch.$BRANCH.description" |
		sed -n '/^Changelog:$/,$s/^v\([0-9][0-9]*\):.*/\1/p'
}

changelog_has() { changelog_versions | grep -qx "$1"; }

# maintainers DIR GET_MAINTAINER_OPTION...: the addresses for the patches
# in DIR (not the cover letter).
maintainers() {
	local dir=$1 p patches=()
	shift
	for p in "$dir"/*.patch; do
		[[ "$p" == *-0000-cover-letter.patch ]] || patches+=("$p")
	done
	(cd "$TREE" && perl scripts/get_maintainer.pl --nogit --nogit-fallback --norolestats \
		--nokeywords "$@" "${patches[@]}") | sort -u
}

# as_me_branch: branch rq-send in out/linux, the series re-authored and
# re-signed by git's user.name and user.email.
as_me_branch() {
	git -C "$TREE" branch -f rq-send "$BRANCH"
	git -C "$TREE" config branch.rq-send.description "$(git -C "$TREE" config "branch.$BRANCH.description")"
	git -C "$TREE" checkout -q rq-send
	(unset GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
	 git -C "$TREE" rebase -q "$BASE_TAG" --exec \
		"git log -1 --format=%B | sed '/^Signed-off-by: $PROJECT_NAME/d' | git commit -q --amend --reset-author -s -F -") ||
		{ git -C "$TREE" rebase --abort; git -C "$TREE" checkout -q "$BRANCH"; return 1; }
	git -C "$TREE" checkout -q "$BRANCH"
}

# mbox-append FILE: git send-email's sendmail command for --mbox: append the
# mail on standard input to FILE as an mbox message.
cmd_mbox_append() {
	{
		printf 'From rustqueue@localhost %s\n' "$(LC_ALL=C date -u '+%a %b %e %H:%M:%S %Y')"
		sed 's/^\(>*From \)/>\1/'
		echo
	} >>"$1"
}

# apply DIR: the series onto the user's own kernel tree.
cmd_apply() {
	local dir=${1:-} orig p n=0 total
	if [ -z "$dir" ] || ! git -C "$dir" rev-parse --git-dir >/dev/null 2>&1; then
		die "usage: scripts/rq apply KERNEL_GIT_TREE"
	fi
	if ! git -C "$dir" diff --quiet HEAD || ! git -C "$dir" diff --cached --quiet; then
		die "apply: $dir has uncommitted changes"
	fi
	orig=$(git -C "$dir" rev-parse HEAD)
	total=$(series_files | wc -l)
	while read -r p; do
		n=$((n + 1))
		if ! git -C "$dir" am -3 -q "$p" >"$LOGS/apply.log" 2>&1; then
			# What went wrong, without git am's advice on going on.
			grep -v -e '^hint: ' -e 'git am --' "$LOGS/apply.log" >&2 || true
			git -C "$dir" am --abort >/dev/null 2>&1 || true
			git -C "$dir" reset -q --hard "$orig"
			die "apply: patch $n/$total, ${p##*/}, does not apply to $dir (see above; git am -3 found no merge base or a conflict); $dir is back at $orig"
		fi
	done < <(mkdir -p "$LOGS"; series_files)
	say "apply: $total patches applied to $dir on top of $orig"
}

# in_tmpdir FUNC ARG...: FUNC ARG... TMP with a temporary folder TMP, gone
# afterwards however FUNC ends; FUNC's status.
in_tmpdir() {
	local tmp rc=0
	tmp=$(mktemp -d)
	"$@" "$tmp" || rc=$?
	rm -rf "$tmp"
	return "$rc"
}

# is_series_tree DIR: DIR's HEAD has the tree that patches/ gives.
is_series_tree() {
	[ "$(git -C "$1" rev-parse 'HEAD^{tree}')" = "$(git -C "$TREE" rev-parse "$BRANCH^{tree}")" ]
}

# The series survives being mailed: the mbox "rq send --mbox" writes has the
# right subjects and threading, git am of it onto the pristine tree gives
# the tree patches/ gives, and b4 finds the whole series in it.
mail_round_trip() {
	in_tmpdir mail_round_trip_in
}

# mail_round_trip_in TMP: mail_round_trip, its trees in TMP.
mail_round_trip_in() {
	local mbox=$RQ_OUT/send/round-trip.mbox tmp=$1 n next version
	n=$(series_files | wc -l)
	version=$(changelog_versions | sort -n | tail -n 1)
	cmd_send --mbox "$mbox" >"$LOGS/send.log" 2>&1 || { tail -n 20 "$LOGS/send.log" >&2; return 1; }
	# The version after the newest in the Changelog needs its entry first.
	next=$((version + 1))
	if (cmd_send -v "$next" --mbox "$tmp/next.mbox") >"$LOGS/send-next.log" 2>&1 ||
	   ! grep -q "no 'v$next:' entry" "$LOGS/send-next.log"; then
		say "rq send -v $next did not refuse a cover letter without a v$next changelog entry"
		cat "$LOGS/send-next.log" >&2
		return 1
	fi
	python3 - "$mbox" "$n" "$version" "$(git -C "$TREE" rev-parse "$BASE_TAG")" <<'PY' || return 1
import mailbox, re, sys
msgs = list(mailbox.mbox(sys.argv[1]))
n, version, base = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
assert len(msgs) == n + 1, "%d mails, not %d" % (len(msgs), n + 1)
subj = [re.sub(r"\s+", " ", m["Subject"]) for m in msgs]
for i, s in enumerate(subj):
    want = "[PATCH v%d %d/%d] " % (version, i, n)
    assert s.startswith(want), "mail %d: %s, not %s" % (i, s, want)
assert "base-commit: " + base in msgs[0].get_payload(), "the cover letter names no base-commit " + base
cover = msgs[0]["Message-ID"]
assert cover and not msgs[0]["In-Reply-To"], "the cover letter starts the thread"
for m in msgs[1:]:
    assert m["In-Reply-To"] == cover and cover in m["References"], m["Subject"] + ": not a reply to the cover letter"
for m in msgs:
    assert "linux-api@vger.kernel.org" in m["Cc"] and m["To"], m["Subject"] + ": no To: or no linux-api Cc"
PY
	pristine_clone "$tmp/tree"
	# The cover letter is a mail without a patch: --empty=drop skips it.
	git -C "$tmp/tree" am -q --empty=drop "$mbox" || { say "git am of the mbox failed"; return 1; }
	is_series_tree "$tmp/tree" || { say "git am of the mbox gives another tree than patches/"; return 1; }
	mkdir "$tmp/b4"
	(cd "$tmp" && b4 -q am -m "$mbox" -o "$tmp/b4" "$(sed -n 's/^Message-I[Dd]: *<\(.*\)>$/\1/p' "$mbox" | head -n 1)") \
		>"$LOGS/b4.log" 2>&1 || { tail -n 20 "$LOGS/b4.log" >&2; return 1; }
	[ "$(grep -c '^Subject: ' "$tmp"/b4/*.mbx)" -eq "$n" ] ||
		{ say "b4 am did not find every patch"; cat "$LOGS/b4.log" >&2; return 1; }
}

# pristine_clone DIR: the pristine tree in DIR, on a branch of its own, with
# only the folders the series touches checked out (a sparse checkout: the
# whole tree takes a minute to write out).
pristine_clone() {
	git clone -q --shared --no-checkout "$BASE_REPO" "$1"
	git -C "$1" sparse-checkout set Documentation drivers/char include tools/testing/selftests
	git -C "$1" checkout -q -b work "$BASE_TAG"
}

# apply_works: rq apply onto the pristine tree, and onto one where patch 1
# cannot apply, which it must name and undo.
apply_works() {
	in_tmpdir apply_works_in
}

# apply_works_in TMP: apply_works, its trees in TMP.
apply_works_in() {
	local tmp=$1 rc=0 head
	pristine_clone "$tmp/ok"
	cmd_apply "$tmp/ok" 2>"$LOGS/apply-ok.log" || { cat "$LOGS/apply-ok.log" >&2; return 1; }
	is_series_tree "$tmp/ok" || { say "rq apply gave another tree"; return 1; }
	# A tree whose drivers/char/Makefile ends where patch 1 adds its line.
	pristine_clone "$tmp/bad"
	sed -i '$d' "$tmp/bad/drivers/char/Makefile"
	echo 'obj-y += something_else.o' >>"$tmp/bad/drivers/char/Makefile"
	git -C "$tmp/bad" commit -q -a -m "a conflicting change"
	head=$(git -C "$tmp/bad" rev-parse HEAD)
	(cmd_apply "$tmp/bad") 2>"$LOGS/apply-bad.log" && rc=1
	grep -q "patch 1/[0-9]*, 0001-" "$LOGS/apply-bad.log" || rc=1
	[ "$(git -C "$tmp/bad" rev-parse HEAD)" = "$head" ] && git -C "$tmp/bad" diff --quiet HEAD || rc=1
	[ "$rc" -eq 0 ] || cat "$LOGS/apply-bad.log" >&2
	return "$rc"
}
