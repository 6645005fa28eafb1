"""Fails when the modules of a crate import each other in a cycle.

For every crate under crates/ and web/, each source file is a module (`a/b.rs` and
`a/b/mod.rs` are `a::b`); a module depends on another when its non-test code names it as
`crate::x::…` (or `super::…` for the parent) outside comments; a name a parent re-exports
(`pub use child::Name`) counts as the child's. Declaring a child (`mod x;`) is not a
dependency. Test code (from the first `#[cfg(test)]` on) is left out, since tests may
reach anywhere in their own crate.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATH_RE = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP_RE = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)*)::\{([^}]*)\}")


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return tuple(parts)


def referenced(module: tuple[str, ...], text: str) -> set[tuple[str, ...]]:
    found = set()
    paths = [(m.group(1), m.group(2).split("::")[1:]) for m in PATH_RE.finditer(text)]
    for m in GROUP_RE.finditer(text):
        prefix = m.group(2).split("::")[1:]
        for item in m.group(3).split(","):
            name = item.strip().split("::")[0].strip()
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                paths.append((m.group(1), [*prefix, name]))
    for root, names in paths:
        base = () if root == "crate" else module[:-1]
        found.add(base + tuple(names))
    return found


REEXPORT_RE = re.compile(
    r"\bpub(?:\([a-z]+\))? use ([a-z_][a-z0-9_]*)::(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)"
)


def reexports(module: tuple[str, ...], text: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """`pub use child::{A, B}` in `module`: `module::A` is defined in `module::child`."""
    found = {}
    for m in REEXPORT_RE.finditer(text):
        names = m.group(2).strip("{}").split(",")
        for name in names:
            name = name.strip().split(" as ")[-1].strip()
            if name:
                found[module + (name,)] = module + (m.group(1),)
    return found


def resolve(path, modules, exported):
    for end in range(len(path), 0, -1):
        if path[:end] in exported:
            return exported[path[:end]]
        if path[:end] in modules:
            return path[:end]
    return None


def cycles(src: Path) -> list[list[str]]:
    files = [f for f in src.rglob("*.rs") if "bin" not in f.relative_to(src).parts]
    modules = {module_of(src, f): f for f in files}
    graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in modules}
    texts = {}
    for module, file in modules.items():
        code = file.read_text(encoding="utf-8").split("#[cfg(test)]")[0]
        # Comments (doc links included) name modules without depending on them.
        texts[module] = "\n".join(line.split("//")[0] for line in code.splitlines())
    exported = {}
    for module, text in texts.items():
        exported.update(reexports(module, text))
    for module, text in texts.items():
        for path in referenced(module, text):
            target = resolve(path, set(modules), exported)
            related = target is None or target[: len(module)] == module
            if not related and module[: len(target)] != target:
                graph[module].add(target)
    return strongly_connected(graph)


def strongly_connected(graph):
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append("::".join(member) or "crate")
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def main() -> int:
    crates = sorted(p.parent for p in ROOT.glob("crates/*/src")) + [ROOT / "web"]
    failed = False
    for crate in crates:
        for component in cycles(crate / "src"):
            print(f"{crate.name}: modules import each other: {', '.join(component)}")
            failed = True
    if not failed:
        print(f"no module import cycles in {len(crates)} crates")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
