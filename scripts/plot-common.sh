# Shared by scripts/plot-*.sh (sourced, not run).
# csv_cols FILE COL... : print the named columns of a bench CSV, space
# separated, one row per line (quoted fields handled; empty -> NaN).
PY=${FERAL_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
csv_cols() {
	"$PY" - "$@" <<'PYEOF'
import csv, sys
path, cols = sys.argv[1], sys.argv[2:]
with open(path, newline='') as f:
    r = csv.DictReader(f)
    missing = [c for c in cols if c not in (r.fieldnames or [])]
    if missing:
        sys.exit("%s: no column %s" % (path, ", ".join(missing)))
    for row in r:
        print(" ".join((row[c] or "NaN").replace(" ", "_") for c in cols))
PYEOF
}
gp_terminal() {
	if gnuplot -e 'set terminal pngcairo' 2>/dev/null; then
		echo "set terminal pngcairo size 900,600 font ',10'"
	else
		echo "set terminal png size 900,600"
	fi
}
