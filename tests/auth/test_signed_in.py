"""The signed-in user a request carries: the row's values, not an ORM object, until a view needs one."""

from __future__ import annotations

import pytest
from flask_login import current_user
from sqlalchemy import inspect

from cbt.auth.models import User
from cbt.auth.signed_in import SignedInUser


def test_a_signed_in_request_carries_the_users_values_read_only(client, auth):
    user = auth.login_as("trainer", full_name="Ерлан Ахметов", service_number="KZ-0042", locale="kk")
    with client:
        assert client.get("/").status_code == 200
        signed_in = current_user._get_current_object()
        assert isinstance(signed_in, SignedInUser)
        assert (signed_in.id, signed_in.username, signed_in.full_name, signed_in.service_number, signed_in.role,
                signed_in.locale, signed_in.is_active) == (user.id, user.username, "Ерлан Ахметов", "KZ-0042",
                                                           "trainer", "kk", True)
        assert signed_in.has_role("admin", "trainer") and not signed_in.has_role("admin")
        assert signed_in.get_id() == signed_in.session_token and len(signed_in.session_token) > 40
        with pytest.raises(AttributeError, match="read-only"):
            signed_in.locale = "ru"  # a change here would never reach the database
        assert signed_in.locale == "kk"


def test_what_the_values_do_not_hold_comes_from_the_mapped_user(client, auth, site):
    auth.login_as("trainee", site_id=site.id)
    with client:
        assert client.get("/learn/transcript").status_code == 200  # the page shows the trainee's site
        signed_in = current_user._get_current_object()
        assert "created_at" not in vars(signed_in)
        assert signed_in.site.code == site.code
        record = signed_in.record()
        assert isinstance(record, User) and inspect(record).has_identity
        assert record.created_at == signed_in.created_at
        assert record.get_id() == signed_in.session_token  # Flask-Login could use either
    page = client.get("/learn/transcript").get_data(as_text=True)
    assert site.name("en") in page
