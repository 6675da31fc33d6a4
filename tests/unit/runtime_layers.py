#!/usr/bin/env python3
"""The runtime's folders form layers: no include cycle between them, and the
core includes no feature folder (features plug into the core's seams).
Usage: runtime_layers.py QEMU_HOOKS_RUNTIME_DIR"""
import os
import re
import sys

root = sys.argv[1]
folders = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
deps = {d: set() for d in folders}
where = {}
for d in folders:
    for name in os.listdir(os.path.join(root, d)):
        if not name.endswith(('.c', '.h')):
            continue
        with open(os.path.join(root, d, name)) as f:
            for line in f:
                m = re.match(r'\s*#\s*include\s+"([a-z_]+)/', line)
                if m and m.group(1) in deps and m.group(1) != d:
                    deps[d].add(m.group(1))
                    where.setdefault((d, m.group(1)), f"{d}/{name}")

if 'core' not in deps:
    print(f"FAIL: no core/ folder in {root} (wrong path?): nothing to check")
    sys.exit(1)

bad = 0
for d in deps['core']:
    print(f"FAIL: core includes {d}/ ({where[('core', d)]}): features must use the core's seams")
    bad = 1

# Depth-first search for a cycle.
state = {}
def visit(d, path):
    global bad
    state[d] = 1
    for e in sorted(deps[d]):
        if state.get(e) == 1:
            cyc = path[path.index(e):] + [e]
            print("FAIL: include cycle: " + " -> ".join(
                f"{a} ({where[(a, b)]})" for a, b in zip(cyc, cyc[1:])) + f" -> {e}")
            bad = 1
        elif e not in state:
            visit(e, path + [e])
    state[d] = 2

for d in folders:
    if d not in state:
        visit(d, [d])
for d in folders:
    print(f"{d} -> {' '.join(sorted(deps[d])) or '(nothing)'}")
print("ok - no include cycle between the runtime's folders" if not bad else "# failed")
sys.exit(bad)
