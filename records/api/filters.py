"""django-filter sets for the API's lists (applied after the selectors have scoped them)."""

from __future__ import annotations

import django_filters

from dedupe.models import DedupeRun, DuplicateGroup

from ..models import GatheredItem, ItemStatus, Packet, PacketState, RecordsRequest, RequestStatus, Withholding


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
    request = django_filters.NumberFilter(field_name="request_id")
    department = django_filters.CharFilter(field_name="department__code", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(choices=ItemStatus.choices)
    sha256 = django_filters.CharFilter()
    uploaded_after = django_filters.DateTimeFilter(field_name="uploaded_at", lookup_expr="gte")

    class Meta:
        model = GatheredItem
        fields = ["request", "department", "status", "sha256"]


class DedupeRunFilter(django_filters.FilterSet):
    request = django_filters.NumberFilter(field_name="request_id")

    class Meta:
        model = DedupeRun
        fields = ["request", "state"]


class DuplicateGroupFilter(django_filters.FilterSet):
    request = django_filters.NumberFilter(field_name="request_id")
    run = django_filters.NumberFilter(field_name="run_id")
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
    request = django_filters.NumberFilter(field_name="item__request_id")

    class Meta:
        model = Withholding
        fields = ["request", "exemption"]


class PacketFilter(django_filters.FilterSet):
    request = django_filters.NumberFilter(field_name="request_id")
    state = django_filters.ChoiceFilter(choices=PacketState.choices)

    class Meta:
        model = Packet
        fields = ["request", "state"]
