#!/usr/bin/python3
"""Fails when a module under src/ (a .c/.h pair, named by its file stem) includes, directly or
through others, a module that includes it back: the include graph between modules must have no
cycle. Prints each cycle found as "a -> b -> a"."""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules(src):
    """{module: set of modules it includes}, for every .c/.h under @src."""
    files = {}
    for dirpath, _, names in os.walk(src):
        for name in names:
            if name.endswith((".c", ".h")):
                files.setdefault(os.path.splitext(name)[0], []).append(
                    os.path.join(dirpath, name))
    graph = {m: set() for m in files}
    for mod, paths in files.items():
        for path in paths:
            with open(path, encoding="utf-8") as f:
                for inc in INCLUDE.findall(f.read()):
                    other = os.path.splitext(os.path.basename(inc))[0]
                    if other in graph and other != mod:
                        graph[mod].add(other)
    return graph


def cycles(graph):
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def path_in(graph, comp):
    """One cycle through the component, for the message."""
    start = comp[0]
    seen = [start]
    while True:
        nxt = sorted(w for w in graph[seen[-1]] if w in comp)
        step = next((w for w in nxt if w not in seen), None)
        if step is None:
            back = next(w for w in nxt if w in seen)
            return seen[seen.index(back):] + [back]
        seen.append(step)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    graph = modules(os.path.join(root, "src"))
    found = cycles(graph)
    for comp in found:
        print("module cycle: " + " -> ".join(path_in(graph, comp)))
    if found:
        return 1
    print(f"include cycles: none among {len(graph)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
