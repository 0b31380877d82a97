"""CLI commands of the visualise stage (view)."""

import click

COMMANDS: list[click.Command] = []
