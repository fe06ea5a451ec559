"""The code keeps its layering: no module imports a higher layer, and no imports go round in a cycle."""

import ast
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top: a module may import its own layer or a lower one. Each layer lists module prefixes;
# a module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, ...]] = [
    ("connectors",),
    ("reengage.platform",),
    ("reengage.models",),
    ("reengage.platform.auth",),  # API keys are rows: auth reads them through the models
    ("reengage.samples",),
    ("reengage.connections", "reengage.links"),  # the connection store and the interfaces providers implement
    ("reengage.channels",),  # each channel's own checks and delivery, read by settings, flows and dispatch
    ("reengage.settings",),
    ("reengage.hooks",),
    ("reengage.intake",),
    ("reengage.winback",),
    ("reengage.sequencing",),
    ("reengage.outcomes",),
    ("reengage.sending",),  # dispatch adds each sent message to its dropoff's tally
    ("reengage.detection",),
    ("reengage.results",),
    ("reengage.schemas",),
    ("reengage.providers",),
    ("reengage.jobs",),
    ("triggers", "actions", "searches"),  # an action hands the message it queues to the send job
    ("reengage.web",),
    ("reengage.accounts", "reengage.cli", "app"),
]

# The project's own code: top-level packages and modules, relative to the repository root.
SOURCES = ("reengage", "connectors", "triggers", "actions", "searches", "app.py")



@dataclass(frozen=True)
class Import:
    """One import statement: the importing module and file, its line, the module it imports."""

    module: str
    path: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def module_files(root: Path, sources: Iterable[str]) -> dict[str, Path]:
    """Every Python module under `sources`, by dotted name."""
    found = {}
    for source in sources:
        path = root / source
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            parts = list(file.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = file
    return found


def imports_of(module: str, file: Path, root: Path, modules: dict[str, Path]) -> Iterator[Import]:
    """The project modules `module` imports, wherever the import statement stands (functions included)."""
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    where = str(file.relative_to(root))
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from package import submodule` imports the submodule; `from module import name` the module.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in dict.fromkeys(names):
            target = project_module(name, modules)
            if target is not None and target != module:
                yield Import(module, where, node.lineno, target)


def project_module(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` refers to (itself or the nearest enclosing one), or None if it is not ours."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def layer_of(module: str, layers: list[tuple[str, ...]]) -> tuple[int, str] | None:
    """The index of the layer `module` belongs to and the prefix that places it there, or None."""
    matches = [
        (len(prefix), index, prefix)
        for index, prefixes in enumerate(layers)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        return None
    _, index, prefix = max(matches)
    return index, prefix


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def violations(
    root: Path,
    sources: Iterable[str] = SOURCES,
    layers: list[tuple[str, ...]] = LAYERS,
) -> list[str]:
    """What breaks the layering under `root`: upward imports, module cycles, stage cycles."""
    modules = module_files(root, sources)
    edges = [edge for module, file in modules.items() for edge in imports_of(module, file, root, modules)]
    problems: list[str] = []

    module_graph: dict[str, set[str]] = defaultdict(set)
    stage_graph: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        module_graph[edge.module].add(edge.target)
        source, target = layer_of(edge.module, layers), layer_of(edge.target, layers)
        if source is None or target is None:
            unplaced = edge.module if source is None else edge.target
            problems.append(f"{edge}: {unplaced} belongs to no layer")
        elif target[0] > source[0]:
            problems.append(f"{edge}: upward, from layer {source[1]} to layer {target[1]}")
        elif target[1] != source[1]:
            stage_graph[source[1]].add(target[1])
    problems += [f"import cycle between modules: {' <-> '.join(component)}" for component in cycles(module_graph)]
    problems += [f"import cycle between stages: {' <-> '.join(component)}" for component in cycles(stage_graph)]
    return problems


def test_the_code_keeps_its_layering():
    problems = violations(ROOT)
    assert not problems, "\n".join(problems)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


LOW_HIGH = [("low",), ("high",)]


def test_an_upward_import_inside_a_function_is_named_with_its_file_and_line(tmp_path):
    write(tmp_path, {
        "low/__init__.py": "",
        "low/base.py": "def go():\n    from high import top\n    return top\n",
        "high/__init__.py": "",
        "high/top.py": "from low import base\n",
    })

    problems = violations(tmp_path, ("low", "high"), LOW_HIGH)

    assert f"{Path('low/base.py')}:2 imports high.top: upward, from layer low to layer high" in problems


def test_a_cycle_between_modules_of_one_package_is_found(tmp_path):
    write(tmp_path, {
        "low/__init__.py": "",
        "low/deals.py": "from .matching import match\n",
        "low/matching.py": "from low.deals import add\n",
    })

    problems = violations(tmp_path, ("low",), LOW_HIGH)

    assert problems == ["import cycle between modules: low.deals <-> low.matching"]


def test_a_cycle_between_stages_of_one_layer_is_found(tmp_path):
    write(tmp_path, {
        "one/__init__.py": "",
        "one/a.py": "import two.b\n",
        "two/__init__.py": "",
        "two/b.py": "def go():\n    import one.c\n",
        "one/c.py": "",
    })

    assert violations(tmp_path, ("one", "two"), [("one", "two")]) == ["import cycle between stages: one <-> two"]


def test_a_module_outside_every_layer_is_named(tmp_path):
    write(tmp_path, {"low/__init__.py": "", "low/base.py": "import stray\n", "stray.py": ""})

    assert violations(tmp_path, ("low", "stray.py"), LOW_HIGH) == [
        f"{Path('low/base.py')}:1 imports stray: stray belongs to no layer"
    ]
