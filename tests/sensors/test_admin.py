"""The admin pages of the alarm rules: listed, edited, and a rule with backwards hysteresis refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dispatchd.models import AlarmRule


@pytest.fixture
def admin_client_(db) -> Client:
    """A logged-in superuser."""
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    return client


def test_the_rule_pages_open(admin_client_, rule, gas_sensor, feed):
    gas = rule()
    feed(gas_sensor, [30])
    for page in ["alarmrule/", "alarmrule/add/", f"alarmrule/{gas.id}/change/", "rulestate/"]:
        assert admin_client_.get(f"/admin/dispatchd/{page}").status_code == 200, page


def test_a_rule_that_would_clear_above_its_threshold_is_refused(admin_client_, gas_sensor):
    form = {
        "name": "gas", "sensor_type": "gas", "comparison": "above", "threshold": "20", "clear_threshold": "30",
        "duration_min": "0", "repeat": "1", "severity": "normal", "active": "on",
        "states-TOTAL_FORMS": "0", "states-INITIAL_FORMS": "0",
    }
    response = admin_client_.post("/admin/dispatchd/alarmrule/add/", form)
    assert response.status_code == 200 and "must not be above the threshold" in response.content.decode()
    assert not AlarmRule.objects.exists()
    admin_client_.post("/admin/dispatchd/alarmrule/add/", {**form, "clear_threshold": "10"})
    assert AlarmRule.objects.get().clear_level == 10
