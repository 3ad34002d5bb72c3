#!/bin/sh
# Run every Criterion test binary given on the command line; print each
# binary's synthesis and a closing "N passed, N failed" line; exit 1 on any
# failure, crash or sanitizer report (ASan/LSan/UBSan/TSan).
passed=0; failed=0; bad=0
for t in "$@"; do
	out=$("$t" --jobs=2 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[(----|FAIL)\]|Synthesis' | grep -v '^\[----\] *$' | sed "s|^|$(basename "$t"): |"
	syn=$(printf '%s\n' "$out" | grep 'Synthesis' | tail -1)
	p=$(printf '%s' "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$syn" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(printf '%s' "$syn" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
	# Sanitizer reports: a leak found at a worker's exit shows only as a
	# "crashed during its setup or teardown" warning in the synthesis, so
	# look for the reports themselves and show them.
	san=$(printf '%s\n' "$out" | grep -nE '==[0-9]+==ERROR: [A-Za-z]+Sanitizer|: runtime error: |WARNING: ThreadSanitizer:|crashed during its setup or teardown' | head -1 | cut -d: -f1)
	if [ -n "$san" ]; then
		bad=1
		[ "${f:-0}" -eq 0 ] && [ "${c:-0}" -eq 0 ] && failed=$((failed + 1))
		echo "$(basename "$t"): sanitizer report (exit $rc):"
		printf '%s\n' "$out" | sed -n "$san,\$p" | head -60
	fi
	if [ $rc -ne 0 ] || [ -z "$syn" ]; then
		bad=1
		[ -z "$syn" ] && { echo "$(basename "$t"): no synthesis (exit $rc):"; printf '%s\n' "$out" | tail -20; failed=$((failed + 1)); }
	fi
done
echo "tests: $passed passed, $failed failed"
exit $bad
