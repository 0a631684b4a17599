"""``cbt i18n``: the extract -> update -> translate -> compile -> check workflow, from a source checkout."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from cbt import i18n_check

i18n_cli = AppGroup("i18n", help="Maintain the translation catalogs (kk, ru, en).")


def _root() -> Path:
    root = Path(__file__).resolve().parent.parent
    if not (root / "translations" / "messages.pot").exists() and not (root / "babel.cfg").exists():
        raise click.ClickException(_("Run this command from a source checkout of CBT (translations/ not found)."))
    return root


@i18n_cli.command("extract")
def extract_command() -> None:
    """Extract messages from the code into translations/messages.pot and merge them into each catalog."""
    root = _root()
    catalog = i18n_check.extract(root)
    i18n_check.write_template(catalog, root / "translations" / "messages.pot")
    i18n_check.update_all(root, tuple(current_app.config["LOCALES"]))
    click.echo(_("%(count)d messages extracted; catalogs updated.", count=len(catalog)))


@i18n_cli.command("compile")
def compile_command() -> None:
    """Compile the catalogs to .mo files (a wheel build does this by itself)."""
    written = i18n_check.compile_all(_root())
    click.echo(_("%(count)d catalogs compiled.", count=len(written)))


@i18n_cli.command("check")
def check_command() -> None:
    """Fail on untranslated or fuzzy messages, placeholder or tag mismatches, or a stale template."""
    problems = i18n_check.check_all(_root(), tuple(current_app.config["LOCALES"]))
    for line in problems:
        click.echo(line)
    if problems:
        raise click.ClickException(_("%(count)d translation problems found.", count=len(problems)))
    click.echo(_("All catalogs are complete."))
