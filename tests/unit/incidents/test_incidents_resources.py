"""Readiness checks of the resource inventory; the agreed line's acknowledgements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import ValidationError
from yuqing.incidents import coordination
from yuqing.incidents import resources as rs

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
D = timedelta(days=1)


@pytest.mark.parametrize(
    ("res", "codes"),
    [
        (rs.ResourceFacts(1, "subscription", "A", expires_at=NOW - D), ["expired"]),
        (rs.ResourceFacts(1, "subscription", "A", expires_at=NOW), ["expired"]),
        (rs.ResourceFacts(1, "subscription", "A", expires_at=NOW + 10 * D), ["expiring"]),
        (rs.ResourceFacts(1, "subscription", "A", expires_at=NOW + 30 * D), []),
        (rs.ResourceFacts(1, "monitoring_tool", "A"), ["no_expiry"]),
        (rs.ResourceFacts(1, "template", "A"), []),
        (rs.ResourceFacts(1, "media_contact", "A"), ["no_channel"]),
        (
            rs.ResourceFacts(1, "media_contact", "A", contacts=(("phone", "n/a"), ("email", "not-an-email"))),
            ["no_channel"],
        ),
        (rs.ResourceFacts(1, "media_contact", "A", contacts=(("fax", "+86 21 5555"),)), ["no_channel"]),
        (rs.ResourceFacts(1, "media_contact", "A", contacts=(("phone", "+86 21 5555 0101"),)), []),
        (rs.ResourceFacts(1, "counsel", "A", contacts=(("email", "law@firm.example"),)), []),
        (rs.ResourceFacts(1, "spokesperson", "A", contacts=(("wecom", "zhouting"),)), []),
        (rs.ResourceFacts(1, "equipment", "A"), ["untested"]),
        (rs.ResourceFacts(1, "equipment", "A", last_tested_at=NOW - 100 * D), ["untested"]),
        (rs.ResourceFacts(1, "equipment", "A", last_tested_at=NOW - 10 * D), []),
        (rs.ResourceFacts(1, "template", "A", owner_active=False), ["inactive_owner"]),
        (rs.ResourceFacts(1, "subscription", "A", expires_at=NOW - D, active=False), []),
    ],
)
def test_readiness(res: rs.ResourceFacts, codes: list[str]) -> None:
    assert [p.code for p in rs.check_resource(res, NOW)] == codes


def test_severity_and_alert_level() -> None:
    [expired] = rs.check_resource(rs.ResourceFacts(1, "subscription", "A", expires_at=NOW - D), NOW)
    [expiring] = rs.check_resource(rs.ResourceFacts(1, "subscription", "A", expires_at=NOW + D), NOW)
    assert (expired.severity, rs.readiness_alert_level(expired)) == ("error", "III")
    assert (expiring.severity, rs.readiness_alert_level(expiring)) == ("warning", "IV")


def test_unknown_kind() -> None:
    with pytest.raises(ValidationError):
        rs.check_kind("yacht")


def test_line_status() -> None:
    st = coordination.line_status(2, ["a", "b", "c"], ["b", "x", "b"])
    assert st.pending == ("a", "c") and not st.complete
    assert coordination.line_status(1, ["a"], ["a"]).complete


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_line_text_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        coordination.check_line_text(text)
