"""Options shared by the models stage's commands (`flags`, `audit list`)."""

from __future__ import annotations

import click

from famlink.models.flags import FLAG_TYPES

flag_type_option = click.option(
    "--type",
    "flag_type",
    type=click.Choice(FLAG_TYPES),
    default=None,
    help="Only flags of this type. Default: every type.",
)
