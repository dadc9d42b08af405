#!/usr/bin/env python3
"""check-layers.py: the include graph of daemon/ and client/ keeps its layers.

daemon/ is built in layers, one folder each, and each may include only its
own folder and the folders below it (docs/architecture.md):

    base -> store -> model -> domain -> app -> exec -> net -> server -> main.c

client/ has libwhistle (lib/, with its public headers in include/whistle/)
at the bottom, the shared screen code (ui/) above it, and the programs
(cli/, console/, kiosk/, bench/, gateway/) on top, none of which includes another's
files.

A module is a file's stem in its folder (event.c and event.h are one
module). Two rules, checked over every `#include "..."` line:

  1. no upward include: a module includes only modules of its own layer or
     of a layer below (for the client programs: of its own program, ui or
     lib);
  2. no cycle: no module reaches itself through includes (a .c including
     the header of a module whose files include its own header is one).

Prints one line per violation and exits 1, or prints a summary and exits
0. Usage: scripts/check-layers.py [REPO_ROOT]   (run by `make test`, as
the ctest unit/layers)
"""
import os
import re
import sys

DAEMON_LAYERS = ["base", "store", "model", "domain", "app", "exec", "net", "server"]
CLIENT_PROGRAMS = ["cli", "console", "kiosk", "bench", "gateway"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources(root, top):
    for dirpath, _, files in os.walk(os.path.join(root, top)):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(dirpath, f), root)


def includes(root, path):
    out = []
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            m = INCLUDE.match(line)
            if m:
                out.append((n, m.group(1)))
    return out


def module_of(path):
    return os.path.splitext(path)[0]


def daemon_rank(path):
    parts = path.split("/")
    if len(parts) == 2:  # daemon/main.c: the composition root
        return len(DAEMON_LAYERS), "main"
    return DAEMON_LAYERS.index(parts[1]), parts[1]


def client_rank(path):
    """(rank, group): lib 0, ui 1, a program 2 (its own group)."""
    parts = path.split("/")
    if parts[0] == "include" or parts[1] == "lib":
        return 0, "lib"
    if parts[1] == "ui":
        return 1, "ui"
    return 2, parts[1]


def resolve(root, src, name, search):
    """The repository path a quoted include names, or None (generated or
    system headers: records.pb-c.h, whistle/v1/whistle.pb-c.h)."""
    here = os.path.normpath(os.path.join(os.path.dirname(src), name))
    if os.path.exists(os.path.join(root, here)):
        return here
    for d in search:
        p = os.path.normpath(os.path.join(d, name))
        if os.path.exists(os.path.join(root, p)):
            return p
    return None


def find_cycles(graph):
    """Strongly connected components with more than one module, or a
    module that includes itself (Tarjan's algorithm, iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in graph[v]:
                    out.append(sorted(comp))
    return out


def check(root):
    problems = []
    counts = {}
    for top, ranker, search in (
        ("daemon", daemon_rank, ["daemon/" + l for l in DAEMON_LAYERS]),
        ("client", client_rank, ["include", "client/lib", "client/ui"]),
    ):
        files = list(sources(root, top))
        if top == "client":
            files += list(sources(root, "include/whistle"))
        graph = {}
        edges = 0
        for f in files:
            m = module_of(f)
            graph.setdefault(m, set())
            rank, group = ranker(f)
            for line, name in includes(root, f):
                dep = resolve(root, f, name, [os.path.dirname(f)] + search)
                if dep is None or not dep.startswith((top + "/", "include/")):
                    continue
                dm = module_of(dep)
                edges += 1
                if dm != m:
                    graph[m].add(dm)
                drank, dgroup = ranker(dep)
                if drank > rank or (drank == rank and dgroup != group):
                    problems.append(
                        "%s:%d: includes %s: %s may not include %s (%s)"
                        % (f, line, dep, group, dgroup,
                           "a layer above it" if drank > rank else "another program's files"))
        for comp in find_cycles(graph):
            problems.append("%s: include cycle: %s" % (top, " -> ".join(comp + [comp[0]])))
        counts[top] = (len(graph), edges)
    return problems, counts


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    problems, counts = check(root)
    for p in problems:
        print("check-layers: " + p)
    if problems:
        print("check-layers: %d violation%s (docs/architecture.md says what each layer may include)"
              % (len(problems), "" if len(problems) == 1 else "s"))
        return 1
    print("check-layers: daemon: %d modules, %d includes; client: %d modules, %d includes; "
          "no cycle, no upward include" % (counts["daemon"] + counts["client"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
