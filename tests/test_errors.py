"""The exception tree drawn in errors.py's docstring is the tree the package raises."""

from __future__ import annotations

import importlib
import pkgutil
import re

import smsbridge
from smsbridge import errors


def _drawn() -> dict[str, str]:
    """class name -> its parent's name, as the docstring draws them."""
    parents: dict[str, str] = {}
    stack = ["SmsBridgeError"]
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"\s*((?:[│ ]   )*)[├└]── (\w+)", line)
        if not found:
            continue
        depth = len(found.group(1)) // 4
        del stack[depth + 1:]
        parents[found.group(2)] = stack[depth]
        stack.append(found.group(2))
    return parents


def _raised() -> dict[str, str]:
    for module in pkgutil.walk_packages(smsbridge.__path__, "smsbridge."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: dict[str, str] = {}
    todo = [errors.SmsBridgeError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("smsbridge."):  # not a test's own subclass
                found[sub.__name__] = cls.__name__
            todo.append(sub)
    return found


def test_every_error_the_package_defines_is_drawn_under_its_parent():
    assert _raised() == _drawn()


def test_an_operators_typing_mistake_is_not_a_database_error():
    assert not issubclass(errors.InvalidInput, errors.StoreError)
    assert issubclass(errors.InvalidInput, errors.SmsBridgeError)
