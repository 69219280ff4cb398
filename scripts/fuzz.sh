#!/usr/bin/env bash
# Run each fuzz target for a while against the PostgreSQL that
# QEMGATE_TEST_DATABASE_URL names (`make fuzz` starts a throwaway one).
#
#   scripts/fuzz.sh FUZZTIME TARGET...
#
# A TARGET is a fuzz function of ./handlers, or PACKAGE:FUNCTION for another
# package (./intake:FuzzGiteaPayload). A target fails when Go reports a
# failing input, which it writes to <package>/testdata/fuzz/<function>/
# (commit it: it becomes a seed). Go 1.26's
# coordinator may also end a clean run with a bare "context deadline
# exceeded" right at the fuzztime boundary (golang/go#75804, fixed in Go
# 1.27); that, with no failing input written, is reported and not counted.
set -uo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:?usage: scripts/fuzz.sh FUZZTIME TARGET...}
shift
go=${GO:-go}
status=0
for spec in "$@"; do
	pkg=./handlers target=$spec
	if [[ $spec == *:* ]]; then
		pkg=${spec%%:*} target=${spec#*:}
	fi
	dir=${pkg#./}/testdata/fuzz/$target
	before=$(ls "$dir" 2>/dev/null | sort)
	echo "--- $target ($fuzztime)"
	out=$(mktemp)
	$go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 100x -parallel 2 "$pkg" 2>&1 | tee "$out" | grep -v '^fuzz: elapsed'
	rc=${PIPESTATUS[0]}
	grep '^fuzz: elapsed' "$out" | tail -1
	after=$(ls "$dir" 2>/dev/null | sort)
	if [ "$rc" -ne 0 ]; then
		if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' "$out"; then
			echo "scripts/fuzz.sh: $target: Go's fuzztime race (golang/go#75804), no failing input: not a finding" >&2
		else
			echo "scripts/fuzz.sh: $target failed; new inputs in $dir: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')" >&2
			status=1
		fi
	fi
	rm -f "$out"
done
exit $status
