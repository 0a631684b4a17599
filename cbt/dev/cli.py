"""``cbt dev``: tools for developers and benchmarks (never needed on a classroom server)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from cbt.db import session, writing

dev_cli = AppGroup("dev", help="Developer tools: scale data for benchmarks.")


@dev_cli.command("seed-scale")
@click.option("--users", default=10000, show_default=True, type=click.IntRange(1))
@click.option("--sites", default=24, show_default=True, type=click.IntRange(1))
@click.option("--courses", default=4, show_default=True, type=click.IntRange(1))
@click.option("--attempts", default=200000, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same data.")
def seed_scale_command(users: int, sites: int, courses: int, attempts: int, seed: int) -> None:
    """Generate officers, enrolments, completions and attempts at scale (imports the shipped courses first)."""
    from cbt.courses.importer import import_shipped_courses
    from cbt.dev.seed import seed_scale

    started = time.perf_counter()
    with writing():
        import_shipped_courses()
        try:
            counts = seed_scale(users=users, sites=sites, courses=courses, attempts=attempts, seed=seed)
        except ValueError as error:
            session.rollback()
            raise click.ClickException(str(error)) from error
        session.commit()
    click.echo(
        _(
            "Created %(users)d users at %(sites)d sites, %(enrollments)d enrolments, %(completions)d "
            "completions, %(attempts)d attempts and %(responses)d responses in %(seconds).1f s.",
            users=counts.users,
            sites=counts.sites,
            enrollments=counts.enrollments,
            completions=counts.completions,
            attempts=counts.attempts,
            responses=counts.responses,
            seconds=time.perf_counter() - started,
        )
    )
