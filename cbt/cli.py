"""The ``cbt`` command: database, users, demo data, serving, translations, courses.

Every command runs inside the application context (Flask's CLI), speaks the operator's language (from
``LANG``), and fails with a clear message and a non-zero exit code on bad input.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from cbt.db import get_database, session, writing


def main() -> None:
    """Entry point of the ``cbt`` console script."""
    from cbt import create_app

    group = FlaskGroup(create_app=create_app, add_default_commands=False, load_dotenv=False,
                       help="CBT: computer-based training for border and customs officers.")
    group.main(prog_name="cbt")


db_cli = AppGroup("db", help="Create and migrate the database schema.")
users_cli = AppGroup("users", help="Manage user accounts.")


@db_cli.command("upgrade")
@click.option("--revision", default="heads", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Create the schema or migrate it to the latest version."""
    from cbt import migrations

    database = get_database()
    migrations.upgrade(database.engine, revision)
    click.echo(_("Database is at revision %(rev)s.", rev=migrations.current_revision(database.engine) or "-"))


@db_cli.command("revision")
@click.argument("message")
@click.option("--head", default="head", show_default=True, help="Revision to build on (when there are branches).")
@click.option("--rev-id", help="Revision id, e.g. 0005_cohorts.")
def db_revision(message: str, head: str, rev_id: str | None) -> None:
    """Write a new migration from the difference between models and database (developers)."""
    from alembic import command

    from cbt import migrations

    command.revision(migrations.alembic_config(get_database().engine), message=message, autogenerate=True,
                     head=head, rev_id=rev_id)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["trainee", "trainer", "admin"]), default="trainee", show_default=True)
@click.option("--name", "full_name", help="Full name (defaults to the username).")
@click.option("--service-number", help="Service (badge) number.")
@click.option("--site", "site_code", help="Code of the user's site.")
@click.option("--agency", "agency_code", help="Code of the user's agency.")
@click.option("--locale", help="Preferred language: kk, ru or en.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def users_create(
    username: str,
    role: str,
    full_name: str | None,
    service_number: str | None,
    site_code: str | None,
    agency_code: str | None,
    locale: str | None,
    password_stdin: bool,
) -> None:
    """Create a user account."""
    from cbt.auth import services
    from cbt.org.models import Agency, Site

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    with writing():
        site_id = agency_id = None
        if site_code:
            site = session.scalar(select(Site).where(Site.code == site_code))
            if site is None:
                raise click.ClickException(_("Unknown site %(code)s.", code=site_code))
            site_id = site.id
        if agency_code:
            agency = session.scalar(select(Agency).where(Agency.code == agency_code))
            if agency is None:
                raise click.ClickException(_("Unknown agency %(code)s.", code=agency_code))
            agency_id = agency.id
        try:
            user = services.create_user(
                username, password, role=role, full_name=full_name, service_number=service_number,
                site_id=site_id, agency_id=agency_id, locale=locale,
            )
        except services.AccountError as error:
            session.rollback()
            raise click.ClickException(str(error)) from error
        session.commit()
    click.echo(_("User %(username)s created with the role %(role)s.", username=user.username, role=role))


@users_cli.command("list")
@click.option("--role", type=click.Choice(["trainee", "trainer", "admin"]), help="Only users with this role.")
def users_list(role: str | None) -> None:
    """List user accounts."""
    from cbt.auth.models import User

    stmt = select(User).order_by(User.username)
    if role:
        stmt = stmt.where(User.role == role)
    rows = session.scalars(stmt).all()
    click.echo("\t".join([_("Username"), _("Role"), _("Full name"), _("Site"), _("Active")]))
    for user in rows:
        click.echo("\t".join([
            user.username, user.role, user.full_name, user.site.code if user.site else "-",
            _("yes") if user.is_active else _("no"),
        ]))


@users_cli.command("reset-2fa")
@click.argument("username")
def users_reset_two_factor(username: str) -> None:
    """Turn off a user's two-step verification (a lost phone) and end their sessions.

    For the server's operator, e.g. when the only administrator lost their phone; check the person first.
    """
    from cbt.admin.services import reset_two_factor
    from cbt.auth.models import User

    with writing():
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(_("Unknown user %(username)s.", username=username))
        if not reset_two_factor(user, actor_id=None):
            raise click.ClickException(_("%(username)s has no two-step verification.", username=username))
        session.commit()
    click.echo(_("Two-step verification of %(username)s is off and their sessions are ended. They can sign in with "
                 "their password and turn it on again.", username=username))


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load demo countries, agencies, sites, one user per role and the shipped courses."""
    from cbt import demo
    from cbt.content.errors import ContentError

    with writing():
        try:
            credentials = demo.load_demo()
        except ContentError as error:
            session.rollback()
            for problem in error.problems:
                click.echo(f"  {problem.format(_)}", err=True)
            raise click.ClickException(_("A shipped course is not valid; nothing was loaded.")) from error
        session.commit()
    click.echo(_("Demo data loaded. Sign in with:"))
    for username, password, role in credentials:
        click.echo(f"  {username:<10} {password:<22} ({role})")


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for the LAN).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker process.")
@click.option("--workers", type=click.IntRange(1, 64),
              help="Worker processes (default: one per core, at most four; always one on Windows).")
def serve_command(host: str, port: int, threads: int, workers: int | None) -> None:
    """Serve the application with a production WSGI server (gunicorn, or waitress in one process)."""
    from cbt import serving
    from cbt.memory import limit_malloc_arenas
    from cbt.web import warm_templates

    if workers is None:
        workers = serving.default_workers()
    elif workers > 1 and not serving.can_fork():
        raise click.BadParameter(_("Several worker processes are not available on Windows; use --workers 1."),
                                 param_hint="--workers")
    limit_malloc_arenas()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    warm_templates(app)  # before the fork: the workers share the compiled templates
    click.echo(_("Serving CBT on http://%(host)s:%(port)d/ (press Ctrl+C to stop)", host=host, port=port))
    click.echo(ngettext("%(num)d worker process, %(threads)d threads each.",
                        "%(num)d worker processes, %(threads)d threads each.", workers, threads=threads))
    serving.serve(app, host=host, port=port, threads=threads, workers=workers)


def init_app(app: Flask) -> None:
    from cbt.courses.cli import courses_cli
    from cbt.dev.cli import dev_cli
    from cbt.i18n_cli import i18n_cli
    from cbt.ops.cli import backup_command, restore_command
    from cbt.reports.cli import export_command

    for command in (db_cli, users_cli, demo_command, serve_command, i18n_cli, courses_cli, backup_command,
                    restore_command, export_command, dev_cli):
        app.cli.add_command(command)
