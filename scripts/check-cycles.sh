#!/bin/sh
# Module cycles among object files: A uses a symbol B defines and B, directly
# or through other objects, one A defines.  Reads `nm` of the given objects
# (default: the library's, build/obj/src/*.o build/obj/kernels/*.o), prints
# each cycle's modules with the symbols of every edge inside it, and exits 1
# when there is one.
#   scripts/check-cycles.sh [object.o ...]
set -eu
[ $# -gt 0 ] || set -- build/obj/src/*.o build/obj/kernels/*.o
for o in "$@"; do
	[ -f "$o" ] || { echo "check-cycles: $o: no such object (build first)" >&2; exit 2; }
	nm "$o" | awk -v m="${o#*obj/}" '
		NF == 3 && $2 ~ /^[TDRBC]$/ { print "D", m, $3 }
		NF == 2 && $1 == "U" { print "U", m, $2 }'
done | awk '
	$1 == "D" { def[$3] = $2; mods[$2] = 1; next }
	{ use[NR] = $2; sym[NR] = $3; mods[$2] = 1 }
	END {
		n = 0
		for (m in mods) id[m] = n++
		for (k in use) {
			a = use[k]; b = def[sym[k]]
			if (b == "" || b == a) continue
			reach[a, b] = 1
			edge[a, b] = edge[a, b] (edge[a, b] == "" ? "" : " ") sym[k]
		}
		# transitive closure (Warshall): a handful of objects
		for (k in mods) for (i in mods) if ((i, k) in reach)
			for (j in mods) if ((k, j) in reach) reach[i, j] = 1
		bad = 0
		for (a in mods) {
			if (!((a, a) in reach) || done[a]) continue
			bad = 1
			comp = ""
			for (b in mods) if ((a, b) in reach && (b, a) in reach) { comp = comp " " b; done[b] = 1 }
			print "module cycle:" comp
			for (b in mods) for (c in mods)
				if ((b, c) in edge && done[b] && done[c] && (a, b) in reach && (b, a) in reach && (a, c) in reach && (c, a) in reach)
					print "    " b " -> " c ": " edge[b, c]
		}
		if (!bad) print "check-cycles: no module cycles among " n " objects"
		exit bad
	}'
