#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a cycle.

Every `.rs` file under a crate's `src/` is a module (`a/b.rs` and
`a/b/mod.rs` are `a::b`). A reference to `crate::x::y::...` or
`super::...` anywhere in a file (code or tests) is an edge to the longest
module path it names (comments and doc links are not imports). Two levels
are checked:

- files: no two modules reach each other (e.g. `fees::convert` and
  `fees::repo`);
- areas (the top-level modules, e.g. `students`, `guardians`): no two areas
  reach each other, so each area can be read, and changed, on its own.

Usage: check-module-cycles.py CRATE_DIR...
"""
import os
import re
import sys

REF = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")
# `use crate::{a, b::c}` names several paths in one brace group.
GROUP = re.compile(r"\b(crate|super)::\{([^}]*)\}", re.S)


def modules(src):
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel in (["lib"], ["main"]):
                rel = []
            mods[tuple(rel)] = os.path.join(root, f)
    return mods


def targets(mod, is_dir_mod, text, known):
    paths = []
    for base, group in GROUP.findall(text):
        for item in group.split(","):
            item = item.strip().split(" as ")[0].strip()
            if item and item != "self":
                paths.append((base, "::" + item))
    paths += REF.findall(text)
    out = set()
    for base, rest in paths:
        parts = [p for p in rest.split("::") if p]
        if base == "crate":
            start = []
        else:
            # `super` of a mod.rs is its parent's parent's child level.
            start = list(mod[:-1]) if not is_dir_mod else list(mod[:-1])
            while parts and parts[0] == "super":
                start = start[:-1]
                parts = parts[1:]
        full = start + parts
        # longest known module prefix
        for n in range(len(full), -1, -1):
            if tuple(full[:n]) in known:
                t = tuple(full[:n])
                if t != mod and t != ():
                    out.add(t)
                break
    return out


def cycles(graph):
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return sccs


def main():
    failed = False
    for crate in sys.argv[1:]:
        src = os.path.join(crate, "src")
        mods = modules(src)
        files, areas = {}, {}
        for mod, path in mods.items():
            # Comments (doc links included) are not imports.
            text = re.sub(r"//[^\n]*", "", open(path, encoding="utf-8").read())
            is_dir = path.endswith("mod.rs")
            ts = targets(mod, is_dir, text, mods)
            files[mod] = {t for t in ts if t[: len(mod)] != mod}
            if mod:
                for t in ts:
                    if t[0] != mod[0]:
                        areas.setdefault(mod[0], set()).add(t[0])
        for kind, graph in (("modules", files), ("areas", areas)):
            for scc in cycles(graph):
                failed = True
                names = ", ".join("::".join(m) if isinstance(m, tuple) else m for m in scc)
                print(f"{crate}: import cycle between {kind}: {names}")
    if failed:
        sys.exit(1)
    print("no import cycles in: " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
