"""The package's architecture, checked from its source: data flows one way and no module
imports one that imports it back (function-level imports included)."""
import ast
from pathlib import Path

import masa

ROOT = Path(masa.__file__).parent


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(("masa", *path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")
        out[name] = path
    return out


def imports(path: Path, known) -> set[str]:
    """The masa modules `path` imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "masa":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "masa"}
    return {m for m in found if m in known}


GRAPH = {name: imports(path, modules()) - {name} for name, path in modules().items()}


def cycles() -> list[list[str]]:
    state, found = {}, []

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(GRAPH):
        if node not in state:
            visit(node, [])
    return found


def test_no_import_cycles():
    assert cycles() == []


def test_the_model_knows_nothing_of_files_training_or_evaluation():
    allowed = ("masa.model", "masa.config", "masa.skeleton", "masa.inputs")
    bad = {m: sorted(d for d in deps if not d.startswith(allowed))
           for m, deps in GRAPH.items() if m.startswith("masa.model")}
    assert {m: d for m, d in bad.items() if d} == {}


def test_poses_and_data_know_nothing_of_models_or_training():
    upstream = ("masa.model", "masa.train", "masa.evaluate", "masa.release", "masa.predict", "masa.cli")
    bad = {m: sorted(d for d in deps if d.startswith(upstream))
           for m, deps in GRAPH.items() if m.startswith(("masa.poses", "masa.data"))}
    assert {m: d for m, d in bad.items() if d} == {}


def test_the_cycle_finder_finds_a_cycle(monkeypatch):
    monkeypatch.setitem(GRAPH, "masa.model.sizes", GRAPH["masa.model.sizes"] | {"masa.model.classifier"})
    found = cycles()
    assert len(found) == 1 and found[0][0] == found[0][-1] and {"masa.model.sizes", "masa.model.classifier"} <= set(found[0])
