"""django-filter sets for the API's lists (applied after the selectors have scoped them)."""

from __future__ import annotations

import django_filters
from django import forms

from dedupe.models import DedupeRun, DuplicateGroup, ImageFingerprint

from ..models import GatheredItem, ItemStatus, Packet, PacketState, RecordsRequest, RequestStatus, Withholding
from ..page_search import matching_pages

# The largest id a database column holds (a 64-bit signed integer).
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number from 1 to MAX_ID. Anything else is a 400 naming the parameter,
    never a query (SQLite cannot even bind 3.8e42, and PostgreSQL would compare it as numeric)."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class RecordsRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices)
    reference = django_filters.CharFilter()
    received_after = django_filters.DateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.DateTimeFilter(field_name="received_at", lookup_expr="lt")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = RecordsRequest
        fields = ["status", "reference"]


class GatheredItemFilter(django_filters.FilterSet):
    request = IdFilter(field_name="request_id")
    department = django_filters.CharFilter(field_name="department__code", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(choices=ItemStatus.choices)
    sha256 = django_filters.CharFilter()
    uploaded_after = django_filters.DateTimeFilter(field_name="uploaded_at", lookup_expr="gte")
    q = django_filters.CharFilter(
        method="filter_words",
        label="Words, all of which one page of the item holds (its PDF text layer, or OCR of a scan).",
    )

    class Meta:
        model = GatheredItem
        fields = ["request", "department", "status", "sha256"]

    def filter_words(self, queryset, name, value):
        # The fingerprints carry the words, from the door's check or a run's fingerprinting.
        prints = ImageFingerprint.objects.filter(blob_id__in=queryset.values("blob_id"))
        return queryset.filter(blob_id__in=matching_pages(prints, value, text_field="text").values("blob_id"))


class DedupeRunFilter(django_filters.FilterSet):
    request = IdFilter(field_name="request_id")

    class Meta:
        model = DedupeRun
        fields = ["request", "state"]


class DuplicateGroupFilter(django_filters.FilterSet):
    request = IdFilter(field_name="request_id")
    run = IdFilter(field_name="run_id")
    latest = django_filters.BooleanFilter(
        method="filter_latest", help_text="Only the latest completed run's groups."
    )

    class Meta:
        model = DuplicateGroup
        fields = ["request", "run", "rule"]

    def filter_latest(self, queryset, name, value):
        if not value:
            return queryset
        from django.db.models import Max

        latest = (
            DedupeRun.objects.filter(state="completed")
            .values("request_id")
            .annotate(last=Max("id"))
            .values_list("last", flat=True)
        )
        return queryset.filter(run_id__in=list(latest))


class WithholdingFilter(django_filters.FilterSet):
    request = IdFilter(field_name="item__request_id")

    class Meta:
        model = Withholding
        fields = ["request", "exemption"]


class PacketFilter(django_filters.FilterSet):
    request = IdFilter(field_name="request_id")
    state = django_filters.ChoiceFilter(choices=PacketState.choices)

    class Meta:
        model = Packet
        fields = ["request", "state"]
