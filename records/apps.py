from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender, **kwargs) -> None:
    from .roles import ensure_role_groups

    ensure_role_groups()


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Public records"

    def ready(self) -> None:
        # Role groups need the permissions that migrations create, so they follow them.
        post_migrate.connect(_ensure_roles, sender=self)
