"""The architecture's rules that ``lint-imports`` alone cannot prove.

- every directory of Python modules under ``src/`` is a package (has ``__init__.py``), so
  no module is invisible to the import contracts;
- the graph ``lint-imports`` checks (grimp's, as import-linter builds it) holds exactly
  the modules on disk;
- each package's ``__init__`` states its role in its docstring's first line and pins its
  public names in ``__all__`` (each of which resolves);
- every ``Protocol`` of the application is in ``application/ports.py``;
- one projection registry: only ``adapters/sql/projections.py`` builds ``ProjectionSpec``;
- the error trees drawn in the ``errors`` docstrings are the class hierarchies;
- the event row's one layout (``schema.ROW_FIELDS``) is the envelope's fields.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import grimp
import msgspec
import pytest

from casemgmt.adapters.sql.eventstore.schema import ROW_FIELDS
from casemgmt.application import errors as app_errors
from casemgmt.application.envelope import Envelope
from casemgmt.domain import errors as domain_errors

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "casemgmt"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _packages() -> list[Path]:
    return sorted({p.parent for p in _python_files()})


def test_every_directory_of_modules_is_a_package() -> None:
    missing = [str(d.relative_to(SRC)) for d in _packages() if not (d / "__init__.py").is_file()]
    assert missing == []


def test_a_directory_without_init_would_be_found(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "inner").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "inner" / "mod.py").write_text("")
    dirs = {p.parent for p in tmp_path.rglob("*.py")}
    assert [d.name for d in dirs if not (d / "__init__.py").is_file()] == ["inner"]


def test_lint_imports_sees_every_module_on_disk() -> None:
    graph = grimp.build_graph("casemgmt", include_external_packages=True)
    seen = {m for m in graph.modules if m == "casemgmt" or m.startswith("casemgmt.")}
    on_disk = {_module_name(p) for p in _python_files()}
    assert len(on_disk) > 100
    assert seen == on_disk, (sorted(on_disk - seen), sorted(seen - on_disk))


@pytest.mark.parametrize(
    "init", [d / "__init__.py" for d in _packages()], ids=lambda p: _module_name(p)
)
def test_each_package_states_its_role_and_pins_its_names(init: Path) -> None:
    tree = ast.parse(init.read_text())
    doc = ast.get_docstring(tree)
    assert doc, f"{init}: no docstring"
    assert doc.splitlines()[0].strip(), f"{init}: no one-line role"
    pinned = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and any(getattr(t, "id", None) == "__all__" for t in _targets(node))
    ]
    assert pinned, f"{init}: no __all__"
    module = importlib.import_module(_module_name(init))
    for name in module.__all__:
        found = hasattr(module, name) or importlib.util.find_spec(f"{module.__name__}.{name}")
        assert found, f"{module.__name__}.__all__ names {name!r}, which is not there"


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def test_every_protocol_of_the_application_is_in_ports() -> None:
    elsewhere = []
    for path in _python_files():
        if path == PACKAGE / "application" / "ports.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", None) == "Protocol" for base in node.bases
            ):
                elsewhere.append(f"{_module_name(path)}.{node.name}")
    assert elsewhere == []


def test_one_projection_registry() -> None:
    builders = [
        _module_name(p)
        for p in _python_files()
        if re.search(r"\bProjectionSpec\(", p.read_text())
        and p.name != "rebuild.py"  # where the class is defined
    ]
    assert builders == ["casemgmt.adapters.sql.projections"]


def _drawn_tree(doc: str, root: str) -> dict[str, str]:
    """Child -> parent, from a box-drawing tree that starts at ``root``."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = [(-1, root)]
    lines = doc.split(root, 1)[1].splitlines()[1:]
    for line in lines:
        match = re.match(r"^([│ ]*)[├└]── (.+?)(?:\s{2,}|$)", line)
        if match is None:
            break
        depth, name = len(match.group(1)) // 4, match.group(2)
        while stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


@pytest.mark.parametrize(
    ("module", "root"),
    [(app_errors, "CasemgmtError"), (domain_errors, "DomainError")],
    ids=["application", "domain"],
)
def test_the_error_tree_drawn_is_the_class_hierarchy(module: object, root: str) -> None:
    drawn = _drawn_tree(module.__doc__ or "", root)
    assert drawn, "no tree drawn"
    actual = {
        name: cls.__base__.__name__
        for name in module.__all__  # type: ignore[attr-defined]
        if isinstance(cls := getattr(module, name), type) and name != root
    }
    assert drawn == actual


def test_the_row_layout_is_the_envelopes_fields() -> None:
    envelope = {f.name for f in msgspec.structs.fields(Envelope)} - {"event"}
    assert set(ROW_FIELDS) == envelope | {"data"}
    assert len(ROW_FIELDS) == len(set(ROW_FIELDS))
