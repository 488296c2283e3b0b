#!/usr/bin/env python3
"""Checks the shape of src/: no import cycle between files or between folders (layers), no file
over 400 lines.

Every `crate::…`, `super::…` and `self::…` path in a file (use lines and inline paths, test
modules left out) is resolved to the file that defines its deepest module; two files that reach
each other, directly or round a loop, are a cycle. Exits 1 and names them when there is one.
Run by CI; `--graph` prints every edge.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
MAX_LINES = 400

PATH = re.compile(r"\b(crate|super|self)((?:::(?:[A-Za-z_][A-Za-z0-9_]*|\{[^;]*?\}))+)", re.S)


def module_of(file: pathlib.Path) -> list[str]:
    parts = list(file.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def file_of(module: list[str]) -> pathlib.Path | None:
    """The file that defines `module`, or None when it is not a file of its own."""
    if not module:
        return SRC / "lib.rs"
    base = SRC.joinpath(*module)
    for candidate in (base.with_suffix(".rs"), base / "mod.rs"):
        if candidate.exists():
            return candidate
    return None


def expand(tail: str) -> list[list[str]]:
    """`::a::{b, c::{d, e}}` → [[a, b], [a, c, d], [a, c, e]]."""
    tail = tail.strip()
    if tail.startswith("::"):
        tail = tail[2:]
    brace = tail.find("{")
    if brace < 0:
        return [[p.strip() for p in tail.split("::") if p.strip()]]
    head = [p for p in tail[:brace].split("::") if p.strip()]
    inner = tail[brace + 1 : tail.rfind("}")]
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    paths = []
    for part in parts:
        part = part.strip().split(" as ")[0].strip()
        if not part or part == "*":
            paths.append(head)
        elif part == "self":
            paths.append(head)
        else:
            paths.extend(head + sub for sub in expand(part))
    return paths


def strip(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    cut = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
    return text[: cut.start()] if cut else text


def targets(file: pathlib.Path) -> set[pathlib.Path]:
    here = module_of(file)
    found = set()
    for anchor, tail in PATH.findall(strip(file.read_text())):
        for path in expand(tail):
            if anchor == "crate":
                base, rest = [], path
            elif anchor == "self":
                base, rest = here, path
            else:
                base, rest = here[:-1], path
                while rest and rest[0] == "super":
                    base, rest = base[:-1], rest[1:]
            module = base + rest
            # The deepest prefix that is a file of its own.
            for n in range(len(module), -1, -1):
                target = file_of(module[:n])
                if target is not None:
                    break
            if target is not None and target != file and target.name != "lib.rs":
                found.add(target)
    return found


def cycles(graph: dict) -> list[list[pathlib.Path]]:
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def area(file: pathlib.Path) -> str:
    """The layer a file belongs to: its folder under src/server/ (or src/), or itself."""
    parts = file.relative_to(SRC).with_suffix("").parts
    depth = 2 if parts[0] == "server" and len(parts) > 1 else 1
    return "/".join(parts[:depth])


def main() -> int:
    files = sorted(SRC.rglob("*.rs"))
    graph = {f: targets(f) for f in files}
    rel = lambda f: str(f.relative_to(ROOT))
    if "--graph" in sys.argv:
        for f, ts in graph.items():
            for t in sorted(ts):
                print(f"{rel(f)} -> {rel(t)}")
    failed = False
    for component in cycles(graph):
        failed = True
        print("import cycle between: " + ", ".join(rel(f) for f in component))
        inside = set(component)
        for f in component:
            for t in sorted(graph[f] & inside):
                print(f"    {rel(f)} uses {rel(t)}")
    # The same between folders: a layer may use those below it, never one that uses it back.
    areas: dict = {}
    for f, ts in graph.items():
        for t in ts:
            if area(f) != area(t):
                areas.setdefault(area(f), set()).add(area(t))
    for component in cycles(areas):
        failed = True
        print("layers use each other: " + ", ".join(component))
        for a in component:
            print(f"    {a} uses {', '.join(sorted(areas[a] & set(component)))}")
    for f in files:
        lines = f.read_text().count("\n")
        if lines > MAX_LINES:
            failed = True
            print(f"{rel(f)}: {lines} lines (at most {MAX_LINES})")
    if not failed:
        print(
            f"layers: {len(files)} files in {len(areas)} layers, no import cycle, "
            f"none over {MAX_LINES} lines"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
