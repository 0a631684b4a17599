"""The audit log view: filters, CSV export (itself audited, formula-safe), and no way to change the log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select

from cbt.audit.models import AuditEvent


def test_filters_by_action_user_and_period(app, client, auth, create_user, db):
    admin = auth.login_as("admin")
    trainee = create_user("trainee", username="someone")
    db.add_all([
        AuditEvent(action="user.role_change", actor_id=admin.id, target=f"user:{trainee.id}",
                   details={"old": "trainee", "new": "trainer"}, created_at=datetime(2026, 1, 5, tzinfo=UTC)),
        AuditEvent(action="certificate.revoke", actor_id=admin.id, target="certificate:1",
                   details={"code": "ABC"}, created_at=datetime(2026, 2, 5, tzinfo=UTC)),
    ])
    db.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "user.role_change" in page and "certificate.revoke" in page and "auth.sign_in" in page
    page = client.get("/admin/audit?action=user.role_change").get_data(as_text=True)
    assert "1 event." in page and "new=trainer, old=trainee" in page
    page = client.get("/admin/audit?date_from=2026-02-01&date_to=2026-02-28").get_data(as_text=True)
    assert "1 event." in page and "certificate.revoke" in page
    page = client.get(f"/admin/audit?user={admin.username}&action=auth.sign_in").get_data(as_text=True)
    assert "1 event." in page
    page = client.get("/admin/audit?user=nobody").get_data(as_text=True)
    assert "0 events." in page


def test_csv_export_is_filtered_neutralized_and_audited(client, auth, create_user, db):
    admin = auth.login_as("admin")
    auth.logout()
    auth.login("=cmd|' /C calc'!A0", "wrong")  # a hostile failed sign-in name lands in the log
    auth.login(admin.username)
    response = client.get("/admin/audit.csv?action=auth.sign_in_failed")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Time (UTC)", "Action", "User", "Object", "Details", "Address"]
    assert len(rows) == 2 and rows[1][1] == "auth.sign_in_failed"
    assert "username==cmd" in rows[1][4]
    exports = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).all()
    assert len(exports) == 1 and exports[0].actor_id == admin.id
    assert exports[0].details == {"filters": {"action": "auth.sign_in_failed"}}


def test_csv_cells_that_look_like_formulas_are_neutralized(client, auth, db):
    admin = auth.login_as("admin")
    db.add(AuditEvent(action="x.test", actor_id=admin.id, target="=HYPERLINK(\"http://x\")", details={}))
    db.commit()
    rows = list(csv.reader(io.StringIO(client.get("/admin/audit.csv?action=x.test").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    assert rows[1][3] == "'=HYPERLINK(\"http://x\")"


def test_nothing_in_the_application_can_change_the_audit_log(app):
    audit_rules = [r for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert audit_rules
    for rule in audit_rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
