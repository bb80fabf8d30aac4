"""Runs store their departments of record with their thresholds (dedupe.runs.run_settings).

Runs made before kept only the thresholds; each step then read the request's office of
record afresh. Store it on them as it is now, so their remaining steps and the clerks'
later decisions on their groups use what they used before.
"""

from django.db import migrations

DEPARTMENTS_OF_RECORD = "departments_of_record"


def store_departments_of_record(apps, schema_editor):
    DedupeRun = apps.get_model("dedupe", "DedupeRun")
    for run in DedupeRun.objects.select_related("request__office_of_record").iterator():
        settings = dict(run.settings_used or {})
        if DEPARTMENTS_OF_RECORD in settings:
            continue
        office = run.request.office_of_record
        settings[DEPARTMENTS_OF_RECORD] = [office.code] if office else []
        DedupeRun.objects.filter(pk=run.pk).update(settings_used=settings)


class Migration(migrations.Migration):
    dependencies = [("dedupe", "0006_clerk_merged_relation")]

    operations = [migrations.RunPython(store_departments_of_record, migrations.RunPython.noop)]
