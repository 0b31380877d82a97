"""The installed distribution is one import package, ``famlink``, that works outside a checkout.

In a checkout, pytest puts the repository on ``sys.path``, so the stage folders would import
as top-level ``linkage``, ``models`` and ``visualise`` and hide a reference to those names.
These tests run Python in isolated mode (``-I``: no current folder, no PYTHONPATH) from an
empty folder, as the ``famlink`` command runs for a user.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _isolated(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", "-c", code], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_only_famlink_is_a_top_level_name(tmp_path: Path) -> None:
    result = _isolated(
        "import importlib.util as u; import famlink; "
        "print(sorted(n for n in ('linkage', 'models', 'visualise') if u.find_spec(n)))",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_module_imports_and_finds_its_files_outside_the_checkout(tmp_path: Path) -> None:
    # Import every module, and read the package files (templates, nickname list) the way the
    # stages do: a name or path tied to the checkout fails here.
    code = """
import importlib, pkgutil, famlink
names = [m.name for m in pkgutil.walk_packages(famlink.__path__, "famlink.")]
for name in names:
    importlib.import_module(name)
from famlink.visualise import page
from famlink.linkage import standardise
assert page.asset("view.css") and page.vis_network_js()
page._env().get_template("family.html.j2")
assert standardise.NICKNAMES_PATH.exists()
print(len(names))
"""
    result = _isolated(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 40  # the application and all three stages were walked
