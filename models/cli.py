"""CLI commands of the models stage (flags, chronology, family, profile)."""

import click

COMMANDS: list[click.Command] = []
