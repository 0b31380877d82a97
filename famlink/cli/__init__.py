"""The `famlink` command line: one module per command group in this package (`link.py`,
`review.py`, `models.py`, `audit.py`, `view.py`, `demo.py`); this module only assembles them.
The commands are thin: they call the stages' typed functions and print what those return."""

from __future__ import annotations

import click

from famlink import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="famlink")
def main() -> None:
    """famlink finds the adults and histories around a child across agencies' records.

    \b
    Quick start:
      famlink demo                         # the whole pipeline on the bundled sample data
      famlink link job.toml --out out/     # link your own extracts
      famlink flags out/                   # the flags, with evidence
    """


def _register() -> None:
    from famlink.cli.demo import demo
    from famlink.cli.link import COMMANDS as linkage_commands
    from famlink.cli.models import COMMANDS as model_commands
    from famlink.cli.review import COMMANDS as review_commands
    from famlink.cli.view import COMMANDS as view_commands

    for command in [demo, *linkage_commands, *review_commands, *model_commands, *view_commands]:
        main.add_command(command)


_register()
