#!/usr/bin/env python3
"""Write a synthetic LIBSVM file for timing loaders (not for learning).

    scripts/gen-libsvm-bench.py OUT [ROWS] [NNZ_PER_ROW] [COLS] [SEED]

Defaults: 200000 rows, ~80 nonzeros a row (uniform in [40, 120]), column
indices uniform below 50000 (sorted, unique), 6-digit values in (-1, 1),
labels +1/-1.  About 250 MB.  Deterministic in SEED.
"""
import random
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    per_row = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    cols = int(sys.argv[4]) if len(sys.argv) > 4 else 50000
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    with open(out, "w") as f:
        lines = []
        for _ in range(rows):
            k = rng.randint(per_row // 2, per_row + per_row // 2)
            idx = sorted(rng.sample(range(1, cols + 1), k))
            feats = " ".join("%d:%.6f" % (j, rng.uniform(-1, 1)) for j in idx)
            lines.append("%s %s\n" % ("+1" if rng.random() < 0.5 else "-1", feats))
            if len(lines) >= 10000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))


if __name__ == "__main__":
    main()
