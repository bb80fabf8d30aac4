"""Django app configuration for the engine's edge."""

from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "dedupe"
    verbose_name = "Duplicate detection"
