"""`manage.py load_demo`: the demo office for the single-machine run, and its logins."""

from django.core.management.base import BaseCommand

from records.demo import load_demo


class Command(BaseCommand):
    help = "Create demo departments, staff and one request with real photographs (idempotent)."

    def handle(self, *args, **options) -> None:
        credentials, demo = load_demo()
        self.stdout.write(f"Demo request {demo.reference}: {demo.items.count()} files gathered.")
        self.stdout.write("Logins (also in var/demo-credentials.txt):")
        for cred in credentials:
            self.stdout.write(f"  {cred.username:<12} {cred.password:<16} {cred.role}")
