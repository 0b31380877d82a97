"""Every command explains itself: --help works, ends with a real example, and the README
mentions the command (sqlite-utils style meta-test)."""

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from famlink.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, prefix=f"{full} "))
    return found


COMMANDS = _commands(main)


def test_the_cli_has_the_documented_commands() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"demo", "link", "export", "sample-data", "evaluate"} <= names


@pytest.mark.parametrize("name", [n for n, _ in COMMANDS])
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`famlink {name} --help` has no example"
    assert f"famlink {name.split()[0]}" in result.output


@pytest.mark.parametrize("name", [n for n, _ in COMMANDS if " " not in n])
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"famlink {name}" in README, f"README does not mention `famlink {name}`"


def test_a_missing_output_folder_is_a_short_error_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", str(tmp_path / "nowhere"), "persons"])
    # click's CliRunner catches an unhandled exception too (exit code 1): a short error is
    # click's own exit, a traceback would be the exception itself
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "no famlink output database" in result.output


def test_csv_output_cannot_smuggle_a_spreadsheet_formula() -> None:
    from famlink.cli.common import render_rows

    text = render_rows(["name"], [["=HYPERLINK(\"http://x\")"], ["Ann"]], "csv")
    assert text.splitlines()[1].startswith("\"'=HYPERLINK")
    assert text.splitlines()[2] == "Ann"
