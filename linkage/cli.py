"""The `famlink` command line. Each stage keeps its own commands in its package's `cli.py`;
this module only assembles them."""

from __future__ import annotations

import click

from linkage import __version__


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
    from linkage.cli_review import COMMANDS as review_commands
    from linkage.commands import COMMANDS as linkage_commands
    from linkage.demo import demo
    from models.cli import COMMANDS as model_commands
    from visualise.cli import COMMANDS as view_commands

    for command in [demo, *linkage_commands, *review_commands, *model_commands, *view_commands]:
        main.add_command(command)


_register()
