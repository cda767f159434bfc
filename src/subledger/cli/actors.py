"""``subledger actor``: who may do what in this book (changed only by an actor holding Manage Actors)."""

from pathlib import Path
from typing import Annotated, Any

import typer

from subledger.cli.common import STATE, app, books, input_file, print_json, print_table, register

actor_app = typer.Typer(help="Actors of the book and their permissions.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(actor_app, name="actor")

Name = Annotated[str, typer.Argument(metavar="NAME", help="Actor name.")]
Permissions = Annotated[list[str], typer.Argument(metavar="PERMISSION...", help='Permissions, e.g. "Reverse Invoice".')]


def _show(rows: list[Any]) -> None:
    if STATE.json:
        print_json(rows)
        return
    print_table(("actor", "permissions"), [(row.name, ", ".join(row.permissions)) for row in rows])


@register(actor_app, "list", table=True)
def list_actors() -> None:
    """List the actors of the book and their permissions."""
    _show(books().actors())


@register(actor_app, "grant", writes=True, table=True)
def grant(name: Name, permissions: Permissions) -> None:
    """Grant permissions to an actor, adding the actor if new (needs Manage Actors)."""
    _show([books().grant(name, permissions)])


@register(actor_app, "revoke", writes=True, table=True)
def revoke(name: Name, permissions: Permissions) -> None:
    """Revoke permissions from an actor (needs Manage Actors; some actor always keeps it)."""
    _show([books().revoke(name, permissions)])


@register(actor_app, "import", writes=True, table=True)
def import_actors(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="TOML file: [actors.NAME] permissions = [...].")],
) -> None:
    """Give each actor of an actors file exactly the permissions it lists (needs Manage Actors)."""
    _show(books().import_actors(input_file(file, "actors file")).actors)
