"""``cbt backup`` and ``cbt restore``: the operator's safety net, in the operator's language."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from cbt.ops import backup as ops


def _message(error: ops.BackupError) -> str:
    """The translated sentence for a refused backup or restore."""
    params = {"path": "", "detail": "", "revisions": "", **error.params}
    messages = {
        "no_database": _("There is no database file at %(path)s.", **params),
        "same_file": _("%(path)s is the live database itself; choose another file.", **params),
        "exists": _("%(path)s already exists; choose another name or add --force.", **params),
        "no_folder": _("The folder %(path)s does not exist.", **params),
        "unreadable": _("%(path)s cannot be read: %(detail)s", **params),
        "not_sqlite": _("%(path)s is not an SQLite database.", **params),
        "corrupt": _("%(path)s is damaged (integrity check: %(detail)s).", **params),
        "copy_corrupt": _("The copy failed its integrity check (%(detail)s); nothing was changed.", **params),
        "not_cbt": _("%(path)s is not a CBT database (it has no migration version).", **params),
        "newer": _(
            "%(path)s was made by a newer version of CBT (revisions %(revisions)s); upgrade CBT first.", **params
        ),
        "in_use": _(
            "The database %(path)s is in use. Stop the CBT server (and any other cbt command) and try again.",
            **params,
        ),
    }
    return messages.get(error.code, error.code)


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from cbt import migrations

    script = ScriptDirectory.from_config(migrations.alembic_config(None))  # type: ignore[arg-type]
    return {revision.revision for revision in script.walk_revisions()}


def _release_database() -> None:
    """Close this process's own pooled connections before touching the file."""
    from cbt.db import get_database

    get_database().engine.dispose()


@click.command("backup")
@with_appcontext
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write the backup to.")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def backup_command(out: Path, force: bool) -> None:
    """Write a consistent copy of the database (safe while the server runs)."""
    url = current_app.config["DATABASE_URL"]
    database = ops.sqlite_path(url)
    if database is None:
        click.echo(_("The database is PostgreSQL: back it up with pg_dump, for example:"), err=True)
        click.echo("  " + ops.pg_dump_command(url, out), err=True)
        click.echo(_("(pg_dump reads the password from PGPASSWORD or ~/.pgpass.)"), err=True)
        raise SystemExit(2)
    _release_database()
    try:
        info = ops.backup_sqlite(database, out, overwrite=force)
    except ops.BackupError as error:
        raise click.ClickException(_message(error)) from error
    click.echo(_("Backup written to %(path)s (%(size)s MB, revision %(revision)s). Keep it as safe as the "
                 "server: it holds every account and result.",
                 path=str(info.path), size=f"{info.size / 1_048_576:.1f}", revision=", ".join(info.revisions)))


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database with a backup. Stop the server first."""
    url = current_app.config["DATABASE_URL"]
    database = ops.sqlite_path(url)
    if database is None:
        click.echo(_("The database is PostgreSQL: restore it with pg_restore, for example:"), err=True)
        click.echo("  " + ops.pg_restore_command(url, file), err=True)
        raise SystemExit(2)
    try:
        ops.check_backup_file(file, _known_revisions())
    except ops.BackupError as error:
        raise click.ClickException(_message(error)) from error
    if not yes and not click.confirm(
        _("Replace the database %(database)s with %(file)s? Everything saved since that backup is replaced.",
          database=str(database), file=str(file))
    ):
        raise SystemExit(1)
    _release_database()
    try:
        info = ops.restore_sqlite(file, database, _known_revisions())
    except ops.BackupError as error:
        raise click.ClickException(_message(error)) from error
    if info.previous:
        click.echo(_("The replaced database was kept as %(path)s.", path=str(info.previous)))
    click.echo(_("Database restored (revision %(revision)s). Run \"cbt db upgrade\", then start the server.",
                 revision=", ".join(info.revisions)))
