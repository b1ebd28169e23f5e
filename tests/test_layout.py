"""The layout holds: short files, imports that only point down (no circle), old module paths that still import."""

from __future__ import annotations

import ast
import importlib
import pickle
import sys
import warnings
from pathlib import Path

import pytest

from spikedyn._moved import MOVED

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"
MAX_LINES = 400


def _python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py") if "__pycache__" not in path.parts)


@pytest.mark.parametrize("folder", ["src", "benchmarks"])
def test_no_source_file_is_over_400_lines(folder: str) -> None:
    long = {str(path.relative_to(ROOT)): n for path in _python_files(folder) if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines (split them by idea): {long}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is imported: not those in functions or classes, nor under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            found += _module_level_imports(node.orelse) if _is_type_checking(node.test) else _module_level_imports(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            found += _module_level_imports(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])
        elif isinstance(node, ast.With):
            found += _module_level_imports(node.body)
    return found


def import_graph() -> dict[str, set[str]]:
    """{spikedyn module: the spikedyn modules its module-level imports name}; a package stands for its ``__init__``.

    ``from package import name`` points at the submodule ``package.name`` where there is one, else at
    the package; the parent packages that Python imports on the way are not counted.
    """
    files = {_module_name(path): path for path in _python_files("src/spikedyn")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _module_level_imports(ast.parse(path.read_text(), str(path)).body):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
                continue
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                targets.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in files else module)
        graph[name] = {target for target in targets if target in files and target != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_reports_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_module_level_imports() -> None:
    graph = import_graph()
    assert "spikedyn.training.config.checks" in graph["spikedyn.training.config.load"]
    assert "spikedyn.training.runs.folder" in graph["spikedyn.training.runs.listing"]
    assert "spikedyn.training.runs.folder" not in graph["spikedyn.training.loggers"]  # only under TYPE_CHECKING


def test_no_import_circle_in_spikedyn() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("package", ["spikedyn.training.config"])
def test_config_imports_neither_runs_nor_loggers(package: str) -> None:
    graph = import_graph()
    reached, todo = set(), [name for name in graph if name == package or name.startswith(package + ".")]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += graph.get(name, ())
    above = sorted(name for name in reached if name.startswith(("spikedyn.training.runs", "spikedyn.training.loggers", "spikedyn.training.train")))
    assert not above, f"{package} reaches {above}"


def test_logger_names_of_the_config_are_the_trackers() -> None:
    from spikedyn.training.config.checks import LOGGER_NAMES
    from spikedyn.training.loggers import TRACKERS

    assert tuple(TRACKERS) == LOGGER_NAMES


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_path_imports_the_same_module_and_warns(old: str, new: str) -> None:
    module = importlib.import_module(new)
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=old.replace(".", r"\.")):
        assert importlib.import_module(old) is module
    assert module.__name__ == new and module.__spec__ is not None and module.__spec__.name == new
    parent, leaf = old.rsplit(".", 1)
    assert getattr(importlib.import_module(parent), leaf) is module


def test_an_old_path_warns_once() -> None:
    old = "spikedyn.training.run_folder"
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning):
        importlib.import_module(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import spikedyn.training.run_folder  # noqa: F401  (imported already: no second warning)


def test_an_old_path_unpickles(monkeypatch: pytest.MonkeyPatch) -> None:
    from spikedyn.training.runs.folder import RunFolder

    monkeypatch.delitem(sys.modules, "spikedyn.training.run_folder", raising=False)
    with pytest.warns(DeprecationWarning):
        assert pickle.loads(b"cspikedyn.training.run_folder\nRunFolder\n.") is RunFolder


def test_monkeypatching_through_an_old_path_patches_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    import spikedyn.data.events.frames as frames

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = importlib.import_module("spikedyn.data.frames")
    monkeypatch.setattr(old, "MARK_FOR_TEST", 1, raising=False)
    assert frames.MARK_FOR_TEST == 1


def test_modules_that_became_packages_keep_their_names() -> None:
    import spikedyn.data.static as static
    import spikedyn.training.config as config
    import spikedyn.training.runs as runs
    from spikedyn.data.static import images
    from spikedyn.training.runs import listing

    for name in ("CHOICES", "SURROGATES", "ConfigError", "config_differences", "config_from_dict", "config_source", "config_to_dict",
                 "config_with_values", "config_yaml", "load_config", "save_config"):  # fmt: skip
        assert hasattr(config, name), name
    for name in ("STARTED", "RUN_MARK", "mark_started", "lost_reason", "missing_runs", "process_alive", "run_status", "list_runs", "format_runs"):
        assert getattr(runs, name) is getattr(listing, name)
    for name in ("StaticImageDataset", "load_static", "channel_statistics", "COMMON"):
        assert getattr(static, name) is getattr(images, name)
