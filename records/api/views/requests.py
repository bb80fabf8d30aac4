"""Records requests: list, open, read, extend the deadline, move the status."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ...roles import require_clerk
from ...selectors import requests_visible_to
from ...services.requests import extend_deadline, move_status, open_request
from ..filters import RecordsRequestFilter
from ..serializers import (
    ExtendSerializer,
    RecordsRequestCreateSerializer,
    RecordsRequestSerializer,
    StatusSerializer,
)


class RecordsRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RecordsRequestSerializer
    filterset_class = RecordsRequestFilter

    def get_queryset(self):
        return requests_visible_to(self.request.user).select_related("office_of_record")

    @extend_schema(request=RecordsRequestCreateSerializer, responses={201: RecordsRequestSerializer})
    def create(self, request: Request) -> Response:
        form = RecordsRequestCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        created = open_request(actor=request.user, **form.validated_data)
        return Response(RecordsRequestSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ExtendSerializer, responses={200: RecordsRequestSerializer})
    @action(detail=True, methods=["post"])
    def extend(self, request: Request, pk: str | None = None) -> Response:
        records_request = self.get_object()
        form = ExtendSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        extended = extend_deadline(actor=request.user, records_request=records_request, **form.validated_data)
        return Response(RecordsRequestSerializer(extended).data)

    @extend_schema(request=StatusSerializer, responses={200: RecordsRequestSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def move(self, request: Request, pk: str | None = None) -> Response:
        records_request = self.get_object()
        form = StatusSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # move_status trusts its callers (workers move statuses too); over the API only clerks may.
        require_clerk(request.user, "Only a clerk can change a request's status.")
        moved = move_status(
            actor=request.user,
            records_request=records_request,
            to_status=form.validated_data["status"],
            note=form.validated_data["note"],
        )
        return Response(RecordsRequestSerializer(moved).data)
