#!/usr/bin/env python3
"""Fail when the modules (object files) of a program call into each other in a cycle.

Usage: scripts/check-modules.py OBJ...   (e.g. build/obj/src/*.o build/obj/kernels/*.o)

An edge A -> B means A.o references a global symbol that B.o defines (from `nm`).  Any
strongly connected component with more than one object is a cycle: two files that call into
each other, directly or around a ring.  Prints the dependency graph's cycles, or one line
saying there are none, and exits 1 on a cycle.
"""
import os
import subprocess
import sys


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True, text=True,
                         check=True).stdout
    defined = {line.split()[-1] for line in out.splitlines() if line.strip()}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True, check=True).stdout
    undefined = {line.split()[-1] for line in out.splitlines() if line.strip()}
    return defined, undefined


def sccs(nodes, edges):
    """Tarjan's algorithm, iterative."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop(); on.discard(w); comp.append(w)
                        if w == v:
                            break
                    out.append(comp)
    return out


def main(objs):
    if not objs:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    defs, uses = {}, {}
    for o in objs:
        defs[o], uses[o] = symbols(o)
    owner = {}
    for o in objs:
        for s in defs[o]:
            owner.setdefault(s, o)
    edges = {o: {owner[s] for s in uses[o] if s in owner and owner[s] != o} for o in objs}
    bad = [c for c in sccs(objs, edges) if len(c) > 1]
    name = lambda o: os.path.splitext(o.split('/obj/', 1)[-1])[0]
    if not bad:
        print(f"check-modules: {len(objs)} modules, no cycle")
        return 0
    for comp in bad:
        members = set(comp)
        print("check-modules: cycle among " + ", ".join(sorted(name(o) for o in comp)))
        for a in sorted(comp):
            for b in sorted(edges[a] & members):
                syms = sorted(s for s in uses[a] if owner.get(s) == b)
                print(f"  {name(a)} -> {name(b)}: {', '.join(syms[:4])}"
                      + (" ..." if len(syms) > 4 else ""))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
