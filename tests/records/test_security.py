"""Production hardening: deploy checks, login throttling, CSP, secure cookies."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import make_clerk

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-with-enough-entropy-" + "q" * 20,
    "DJANGO_ALLOWED_HOSTS": "records.city.example",
}


def run_manage(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_deploy_checks_pass_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "security." not in result.stdout + result.stderr


def test_production_settings_send_hsts_secure_cookies_and_a_content_security_policy():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " \"'self'\" in s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src'])"
    )
    result = run_manage("shell", "--no-imports", "-c", code)
    assert result.stdout.strip().splitlines()[-1].split() == ["31536000", "True", "True", "True", "True"], (
        result.stderr
    )


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy(client):
    response = client.get(reverse("login"))
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_for_a_while(client):
    make_clerk("alice")
    statuses = [
        client.post(reverse("login"), {"username": "alice", "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    locked = client.post(reverse("login"), {"username": "alice", "password": "correct-horse-battery"})
    assert locked.status_code == 429
    assert b"Too many failed log-ins" in locked.content
