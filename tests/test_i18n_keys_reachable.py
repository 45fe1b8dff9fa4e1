"""A message key is known wherever it is used. Commands load lazily (`sarapay ledger copy` never imports
`config_cmd`), so a module may only use the keys registered by itself or by a module it imports, directly or
not, at the top or inside a function: otherwise the message is missing the day that module runs alone, and the
user gets « Erreur inattendue (KeyError) » instead of the sentence. Read statically from the sources."""

from __future__ import annotations

import ast
from pathlib import Path

import sarapay

SOURCES = Path(sarapay.__file__).parent
# Loaded only through another module that registers its keys first (named here with the reason).
LOADED_THROUGH = {
    "sarapay.ledger.postgres": "sarapay.ledger.store",  # the backend store opens; it reuses the store's fault messages
}


def _modules() -> dict[str, ast.Module]:
    modules = {}
    for path in SOURCES.rglob("*.py"):
        name = ".".join(("sarapay", *path.relative_to(SOURCES).with_suffix("").parts)).removesuffix(".__init__")
        if not name.startswith("sarapay.sandbox"):  # the sandbox speaks Stripe's English, no catalog
            modules[name] = ast.parse(path.read_text(encoding="utf-8"))
    return modules


def _registered(tree: ast.Module) -> set[str]:
    keys: set[str] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "register"
                and node.args and isinstance(node.args[0], ast.Dict)):
            keys |= {key.value for key in node.args[0].keys if isinstance(key, ast.Constant)}
    return keys


def _imported(tree: ast.Module, known: set[str]) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sarapay"):
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("sarapay")}
    with_parents = {".".join(name.split(".")[:i]) for name in names for i in range(1, name.count(".") + 2)}
    return with_parents & known


def test_every_message_key_is_registered_by_the_module_or_what_it_imports():
    modules = _modules()
    registered = {name: _registered(tree) for name, tree in modules.items()}
    every_key = set().union(*registered.values())
    imports = {name: _imported(tree, set(modules)) for name, tree in modules.items()}
    for name, through in LOADED_THROUGH.items():
        imports[name].add(through)
    missing = {}
    for name, tree in modules.items():
        reachable, todo = {name}, [name]
        while todo:
            for other in imports[todo.pop()] - reachable:
                reachable.add(other)
                todo.append(other)
        known = set().union(*(registered[other] for other in reachable))
        used = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        if gaps := (used & every_key) - known:
            missing[name] = sorted(gaps)
    assert missing == {}
    assert len(every_key) > 500  # the check read the catalog, not nothing
