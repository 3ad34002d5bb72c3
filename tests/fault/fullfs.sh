#!/bin/sh
# Write-failure sweep: outputs are written into a small tmpfs that is filled
# so that only F bytes are free, for F from 0 up to what the output needs, a
# page at a time.  Every run must either succeed with a complete file, or fail
# with exit 1 and a message, leaving the previous output byte-for-byte intact
# and no temporary file behind.  Needs root (mount); prints SKIPPED otherwise.
# Prints a closing "N passed, N failed".
#
# usage: tests/fault/fullfs.sh BUILD_DIR
set -u
B=$(cd "${1:-build}" && pwd)
FERAL=$B/feral
if [ "$(id -u)" -ne 0 ]; then echo "fullfs: SKIPPED (needs root to mount a tmpfs)"; exit 0; fi
W=$(mktemp -d /tmp/feral-fullfs.XXXXXX)
M=$W/fs
mkdir -p "$M"
if ! mount -t tmpfs -o size=1m tmpfs "$M" 2>/dev/null; then
	rm -rf "$W"; echo "fullfs: SKIPPED (cannot mount a tmpfs here)"; exit 0
fi
trap 'umount "$M" 2>/dev/null; rm -rf "$W"' EXIT
cd "$W" || exit 2
"$FERAL" gen gaussian --n 300 --d 40 -o g.npy >/dev/null 2>&1 || exit 2
"$FERAL" gen gaussian --n 2 --d 9000 -o w.npy >/dev/null 2>&1 || exit 2

passed=0; failed=0
sweep() { # name, output name, feral args (OUT stands for the output path)...
	name=$1; outname=$2; shift 2
	rm -rf "${M:?}"/*
	out=$M/$outname
	printf 'previous output\n' > "$out"
	cp "$out" prev
	# what a complete output needs, in pages
	args=$(printf '%s\n' "$@" | sed "s|^OUT\$|$W/full.$outname|")
	# shellcheck disable=SC2086
	"$FERAL" $args >/dev/null 2>&1 || { echo "[FAIL] $name: does not run unconstrained"; failed=$((failed + 1)); return; }
	need=$(( ($(stat -c %s "$W/full.$outname") + 4095) / 4096 + 1 ))
	args=$(printf '%s\n' "$@" | sed "s|^OUT\$|$out|")
	step=$(( need / 12 + 1 ))
	bad=0; tries=0
	free_pages=0
	while [ $free_pages -le $need ]; do
		rm -f "$M/fill"
		avail=$(df -B4096 --output=avail "$M" | tail -1)
		fill=$((avail - free_pages))
		[ $fill -gt 0 ] && dd if=/dev/zero of="$M/fill" bs=4096 count=$fill 2>/dev/null
		# shellcheck disable=SC2086
		"$FERAL" $args >/dev/null 2>err; rc=$?
		tries=$((tries + 1))
		why=
		left=$(ls -A "$M" | grep -v -x -e fill -e "$outname")
		if [ $rc -eq 0 ]; then
			cmp -s "$out" "$W/full.$outname" || why="exit 0 but the output differs from a complete one"
		elif [ $rc -ne 1 ]; then why="exit $rc (want 1)"
		elif ! grep -q feral err; then why="exit 1 with no message"
		elif ! cmp -s "$out" prev; then why="the previous output was changed"
		fi
		[ -z "$why" ] && [ -n "$left" ] && why="left behind: $left"
		if [ -n "$why" ]; then
			echo "[FAIL] $name: $free_pages free pages: $why: $(tail -1 err)"
			bad=$((bad + 1))
		fi
		cp prev "$out" 2>/dev/null
		rm -f "$M/fill"
		free_pages=$((free_pages + step))
	done
	if [ $bad -eq 0 ]; then
		echo "[PASS] $name: $tries fill levels, previous output intact on every failure"
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}

sweep "solve -o x.npy" x.npy solve w.npy w.b.npy --threads 1 --epochs 1 -o OUT
sweep "solve -o x.txt" x.txt solve w.npy w.b.npy --threads 1 --epochs 1 -o OUT
sweep "convert to .feral" g.feral convert g.npy OUT
sweep "convert to .svm" g.svm convert g.npy OUT
sweep "train -o model" m.txt train w.npy --threads 1 --epochs 1 -o OUT
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
