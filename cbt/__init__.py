"""CBT: computer-based training for border, customs and drug-control officers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the CBT application.

    Settings come from defaults, then ``CBT_*`` environment variables, then ``config`` (tests pass a mapping
    here), so one code path serves classroom, central server and tests. Nothing touches the database here:
    the schema is created by ``cbt db upgrade``.
    """
    from cbt import config as settings
    from cbt import db, errors, i18n, web
    from cbt.auth import login
    from cbt.extensions import csrf

    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("CBT_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    settings.configure(app, config)
    db.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    login.init_app(app)
    errors.init_app(app)
    web.init_app(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    from cbt import cli
    from cbt.quiz import services as quiz_services

    quiz_services.init_app(app)
    cli.init_app(app)
    return app


def _blueprints() -> list[Any]:
    """Every feature's blueprint, registered in this order (the first wins a template name clash)."""
    from cbt.admin.views import bp as admin_bp
    from cbt.auth.views import bp as auth_bp
    from cbt.author.views import bp as author_bp
    from cbt.certificates.views import bp as certificates_bp
    from cbt.cohorts.views import bp as cohorts_bp
    from cbt.core.views import bp as core_bp
    from cbt.courses.views import bp as courses_bp
    from cbt.learn.views import bp as learn_bp
    from cbt.quiz.views import bp as quiz_bp
    from cbt.reports.views import bp as reports_bp

    return [core_bp, auth_bp, courses_bp, learn_bp, quiz_bp, cohorts_bp, admin_bp, reports_bp, certificates_bp,
            author_bp]
