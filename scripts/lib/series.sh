# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/lib/series.sh: the pinned tree and the series: fetch, tree (out/linux), export and drift.
# Sourced by scripts/rq.

tarball_ok() {
	[ -f "$PIN_TARBALL" ] &&
		echo "$PIN_SHA256  $PIN_TARBALL" | sha256sum --quiet -c - 2>/dev/null
}

cmd_fetch() {
	local have
	if [ -f "$BASE_REPO/.rq-imported" ] &&
	   [ "$(cat "$BASE_REPO/.rq-imported")" = "$PIN_SHA256" ]; then
		say "fetch: pristine tree ready in $BASE_REPO"
		return
	fi
	if ! tarball_ok; then
		have=$(dpkg-query -W -f='${Version}' "$PIN_PACKAGE" 2>/dev/null || true)
		[ "$have" = "$PIN_VERSION" ] && [ -f "$PIN_TARBALL" ] &&
			die "$PIN_TARBALL does not match sha256 $PIN_SHA256: reinstall with 'apt-get install --reinstall $PIN_PACKAGE=$PIN_VERSION'"
		# A newer linux-source-6.12 may be installed: go back to the pin.
		(run_logged fetch "fetch: installing $PIN_PACKAGE=$PIN_VERSION (about a minute)" -- \
			apt_install --allow-downgrades "$PIN_PACKAGE=$PIN_VERSION") ||
			die "apt-get cannot install $PIN_PACKAGE=$PIN_VERSION. If the archive no longer serves it, install that .deb by hand ('dpkg -i'), or move the pin in scripts/pin (version and sha256) to a version it serves and rerun 'scripts/rq check'"
		tarball_ok || die "$PIN_TARBALL does not have the pinned sha256 $PIN_SHA256: the archive serves a different $PIN_PACKAGE $PIN_VERSION than the one this project pinned; check it, then update PIN_SHA256 in scripts/pin"
	fi
	run_logged import "fetch: unpacking and importing the pristine tree into $BASE_REPO (about a minute)" -- \
		import_tree
}

import_tree() {
	local tmp=$RQ_CACHE/import.$$
	rm -rf "$tmp" "$BASE_REPO"
	mkdir -p "$tmp"
	tar -C "$tmp" -xf "$PIN_TARBALL"
	mv "$tmp"/linux-source-* "$BASE_REPO"
	rmdir "$tmp"
	cd "$BASE_REPO" || return
	git init -q -b pristine
	git config core.bigFileThreshold 1m
	# Debian's top-level .gitignore ignores every entry: add everything by force.
	git add -A -f
	GIT_AUTHOR_NAME=$PROJECT_NAME GIT_AUTHOR_EMAIL=$PROJECT_EMAIL \
	GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
		git commit -q -m "Linux 6.12.117 as Debian ships it ($PIN_PACKAGE $PIN_VERSION)"
	git tag -f "$BASE_TAG" >/dev/null
	echo "$PIN_SHA256" >.rq-imported
}

series_files() {
	local p
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		[ -f "$RQ_ROOT/patches/$p" ] || die "patches/series names $p, which does not exist"
		printf '%s\n' "$RQ_ROOT/patches/$p"
	done <"$RQ_ROOT/patches/series"
}

series_stamp() {
	# shellcheck disable=SC2046
	cat "$RQ_ROOT/patches/series" $(series_files) | sha256sum | cut -d' ' -f1
}

# The cover letter's text (subject line, blank line, body) without headers,
# shortlog and diffstat: it is stored as the branch description, which
# "git format-patch --cover-from-description=subject" turns back into the letter.
cover_description() {
	awk '
		/^Subject: / { sub(/^Subject: \[PATCH[^]]*\] */, ""); subj = $0; insubj = 1; next }
		!body && insubj && /^[ \t]/ { subj = subj $0; next }
		!body && !/^[ \t]/ { insubj = 0 }
		!body && /^$/ { body = 1; print subj; print ""; next }
		body && /^[^ ].* \([0-9]+\):$/ { exit }
		body { print }
	' "$RQ_ROOT/patches/0000-cover-letter.patch" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

cmd_tree() {
	local stamp want head
	cmd_fetch
	stamp=$(series_stamp)
	if [ ! -d "$TREE/.git" ]; then
		say "tree: cloning the pristine tree into out/linux (under a minute)"
		git clone -q --shared --no-checkout "$BASE_REPO" "$TREE"
		git -C "$TREE" checkout -q -b "$BRANCH" "$BASE_TAG"
	fi
	if [ -f "$TREE/.rq-series" ]; then
		read -r want head <"$TREE/.rq-series"
		if [ "$want" = "$stamp" ] && [ "$(git -C "$TREE" rev-parse HEAD)" = "$head" ] &&
		   git -C "$TREE" diff --quiet HEAD; then
			say "tree: out/linux carries the current series"
			return
		fi
		if [ "${RQ_FORCE:-0}" != 1 ] && { [ "$(git -C "$TREE" rev-parse HEAD)" != "$head" ] ||
		   ! git -C "$TREE" diff --quiet HEAD; }; then
			die "out/linux has changes that are not in patches/: run 'scripts/rq export' to keep them, or RQ_FORCE=1 scripts/rq tree to drop them"
		fi
	fi
	git -C "$TREE" am --abort >/dev/null 2>&1 || true
	git -C "$TREE" checkout -q -f -B "$BRANCH" "$BASE_TAG"
	git -C "$TREE" config "branch.$BRANCH.description" "$(cover_description)"
	git -C "$TREE" config format.coverFromDescription subject
	# shellcheck disable=SC2046
	git -C "$TREE" am -q --committer-date-is-author-date $(series_files) ||
		die "git am of patches/ failed on the pristine tree; out/linux is left mid-am for inspection"
	printf '%s %s\n' "$stamp" "$(git -C "$TREE" rev-parse HEAD)" >"$TREE/.rq-series"
	say "tree: out/linux is $BASE_TAG + $(git -C "$TREE" rev-list --count "$BASE_TAG..HEAD") patches"
}

# format_series DIR: the series as git format-patch writes it.
format_series() {
	# A fixed abbreviation: git's default grows with the object count, which
	# differs between a fresh import and a packed repository.
	git -C "$TREE" -c core.abbrev=12 format-patch -q --cover-letter --cover-from-description=subject \
		--base="$BASE_TAG" -o "$1" "$BASE_TAG..$BRANCH" >/dev/null
	local p
	for p in "$1"/*.patch; do
		[ "${p##*/}" = 0000-cover-letter.patch ] || printf '%s\n' "${p##*/}"
	done >"$1/series"
}

# added_files: the files the series creates, one path a line.
added_files() {
	git -C "$TREE" diff --name-only --diff-filter=A "$BASE_TAG..$BRANCH"
}

mirror_of() {
	case "$1" in
	Documentation/*) printf '%s\n' "$RQ_ROOT/$1" ;;
	*) printf '%s\n' "$CODE_DIR/$1" ;;
	esac
}

cmd_export() {
	local tmp f
	[ -d "$TREE/.git" ] || die "no out/linux: run 'scripts/rq tree' first"
	[ "$(git -C "$TREE" symbolic-ref --short HEAD)" = "$BRANCH" ] ||
		die "out/linux is not on branch $BRANCH"
	git -C "$TREE" diff --quiet HEAD || die "out/linux has uncommitted changes: commit them into the series first"
	# Commit dates as "git am --committer-date-is-author-date" gives them, so
	# that out/linux has the hashes "rq tree" would give it.
	if git -C "$TREE" log --format='%ad %cd' --date=raw "$BASE_TAG..$BRANCH" |
		awk '$1 != $3 || $2 != $4 { bad = 1 } END { exit !bad }'; then
		git -C "$TREE" rebase -q --committer-date-is-author-date "$BASE_TAG"
	fi
	tmp=$(mktemp -d)
	format_series "$tmp"
	rm -f "$RQ_ROOT"/patches/*.patch "$RQ_ROOT/patches/series"
	mkdir -p "$RQ_ROOT/patches"
	cp "$tmp"/* "$RQ_ROOT/patches/"
	rm -rf "$tmp" "$CODE_DIR" "$DOC_DIR"
	while read -r f; do
		mkdir -p "$(dirname "$(mirror_of "$f")")"
		git -C "$TREE" show "$BRANCH:$f" >"$(mirror_of "$f")"
	done < <(added_files)
	printf '%s %s\n' "$(series_stamp)" "$(git -C "$TREE" rev-parse HEAD)" >"$TREE/.rq-series"
	say "export: patches/ and the mirror folders now match out/linux"
}

# drift: the series applies exactly (git am and quilt), format-patch gives it
# back unchanged, and the mirror folders hold exactly the files it adds.
cmd_drift() {
	local tmp f bad=0 touched
	cmd_tree
	tmp=$(mktemp -d)
	# 1. patches/ is what "git format-patch" writes for the applied series.
	format_series "$tmp/fp"
	for f in "$tmp"/fp/*; do
		if [ "${f##*/}" = 0000-cover-letter.patch ]; then
			# The letter's Date is the time it was written.
			diff -u <(grep -v '^Date: ' "$RQ_ROOT/patches/${f##*/}") <(grep -v '^Date: ' "$f") ||
				{ say "drift: patches/${f##*/} is not what format-patch writes"; bad=1; }
		elif ! cmp -s "$f" "$RQ_ROOT/patches/${f##*/}"; then
			diff -u "$RQ_ROOT/patches/${f##*/}" "$f" | head -n 20 >&2 || true
			say "drift: patches/${f##*/} is not what format-patch writes"
			bad=1
		fi
	done
	for f in "$RQ_ROOT"/patches/*; do
		[ -e "$tmp/fp/${f##*/}" ] || { say "drift: patches/${f##*/} is not part of the series"; bad=1; }
	done
	# 2. The mirror folders hold every added file, byte for byte, and nothing else.
	while read -r f; do
		cmp -s <(git -C "$TREE" show "$BRANCH:$f") "$(mirror_of "$f")" ||
			{ say "drift: $(mirror_of "$f" | sed "s|^$RQ_ROOT/||") differs from $f in the series"; bad=1; }
		mirror_of "$f" >>"$tmp/expected"
	done < <(added_files)
	while read -r f; do
		grep -qxF "$f" "$tmp/expected" ||
			{ say "drift: ${f#"$RQ_ROOT"/} is not a file the series adds"; bad=1; }
	done < <(find "$CODE_DIR" "$DOC_DIR" -type f 2>/dev/null)
	# 3. quilt push -a applies every patch with no fuzz and no offset.
	mkdir -p "$tmp/q"
	touched=$(git -C "$TREE" diff --name-only --diff-filter=M "$BASE_TAG..$BRANCH")
	# shellcheck disable=SC2086
	git -C "$TREE" archive "$BASE_TAG" -- $touched | tar -C "$tmp/q" -x
	(cd "$tmp/q" && QUILT_PATCHES=$RQ_ROOT/patches QUILT_PC=.pc quilt push -a) >"$tmp/quilt.log" 2>&1 ||
		{ cat "$tmp/quilt.log" >&2; say "drift: quilt push -a failed"; bad=1; }
	# patch(1) says "Hunk #N succeeded at L (offset ...)" or "... with fuzz N"
	# only when a hunk did not apply exactly.
	if grep -E 'Hunk #[0-9]+ succeeded' "$tmp/quilt.log" >&2; then
		say "drift: quilt applied a hunk with fuzz or offset"
		bad=1
	fi
	for f in $touched $(added_files); do
		cmp -s <(git -C "$TREE" show "$BRANCH:$f") "$tmp/q/$f" ||
			{ say "drift: quilt and git am disagree on $f"; bad=1; }
	done
	# 4. LICENSE is the pinned tree's GPL-2.0 text.
	cmp -s <(git -C "$TREE" show "$BASE_TAG:LICENSES/preferred/GPL-2.0") "$RQ_ROOT/LICENSE" ||
		{ say "drift: LICENSE is not the pinned tree's LICENSES/preferred/GPL-2.0"; bad=1; }
	rm -rf "$tmp"
	[ "$bad" -eq 0 ] || die "drift: run 'scripts/rq export' after changing out/linux, or 'RQ_FORCE=1 scripts/rq tree' after changing patches/"
	say "drift: none (git am, quilt, format-patch and the mirror folders agree)"
}
