"""Django app configuration for records; makes the role groups after every migrate."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender, **kwargs) -> None:
    from .roles import ensure_role_groups

    ensure_role_groups()


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Public records"

    def ready(self) -> None:
        from dedupe.runs.workflow import register_workflow

        from . import tasks
        from .services import packets
        from .services.dedupe_runs import RecordsRunWorkflow

        # Role groups need the permissions that migrations create, so they follow them.
        post_migrate.connect(_ensure_roles, sender=self)
        # The seams whose other side imports nothing of records: dedupe runs ask the request
        # workflow what they cover and tell it how they end; a packet build is sent to
        # the worker task that runs it.
        register_workflow(RecordsRunWorkflow())
        packets.register_build_sender(tasks.send_build)
