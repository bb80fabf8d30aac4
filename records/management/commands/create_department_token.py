"""`manage.py create_department_token PD "PD evidence server"`: issue an API token, print it once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from records.errors import ApplicationError
from records.models import Department
from records.services.api_tokens import create_token


class Command(BaseCommand):
    help = "Issue an API token for a department's system. The token is printed once and never stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("department", help="Department code, e.g. PD")
        parser.add_argument("name", help="Which system uses it, e.g. 'PD evidence server'")

    def handle(self, *args, **options) -> None:
        department = Department.objects.filter(code__iexact=options["department"]).first()
        if department is None:
            raise CommandError(f"No department has the code {options['department']!r}.")
        try:
            issued = create_token(actor=None, department=department, name=options["name"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(issued.token)
        self.stderr.write(
            f"Token {issued.record.prefix}… for {department.code} ({issued.record.name}). "
            "Keep it now: only its hash is stored."
        )
