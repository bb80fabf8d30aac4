"""Gathered items: upload (files or a ZIP, through the library door), list, read."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ...selectors import items_visible_to, requests_visible_to
from ...services.library_door import DoorReport, gather_at_door, gather_zip_at_door, outcome_as_dict
from ..filters import GatheredItemFilter
from ..serializers import (
    DoorReportSerializer,
    GatheredItemDetailSerializer,
    GatheredItemSerializer,
    UploadSerializer,
)


class GatheredItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = GatheredItemFilter

    def get_queryset(self):
        return items_visible_to(self.request.user).order_by("id")

    def get_serializer_class(self):
        return GatheredItemDetailSerializer if self.action == "retrieve" else GatheredItemSerializer


class RequestItemsUploadView(APIView):
    """POST files (multipart `files`, repeated) or one `zip`, for one `department`, to a request."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: DoorReportSerializer,
            409: OpenApiResponse(description="Every file was refused as a duplicate (policy 'reject')."),
        },
        operation_id="requests_items_upload",
    )
    def post(self, request: Request, pk: int) -> Response:
        records_request = get_object_or_404(requests_visible_to(request.user), pk=pk)
        form = UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        department = form.validated_data["department"]
        if form.validated_data.get("zip"):
            report = gather_zip_at_door(
                actor=request.user,
                records_request=records_request,
                department=department,
                zip_file=form.validated_data["zip"],
            )
        else:
            uploaded = form.validated_data["files"]
            names = form.validated_data.get("paths") or [f.name for f in uploaded]
            files = list(zip(names, uploaded, strict=True))
            report = gather_at_door(
                actor=request.user, records_request=records_request, department=department, files=files
            )
        return Response(
            _report_body(records_request.reference, department.code, report), status=status.HTTP_201_CREATED
        )


def _report_body(reference: str, department: str, report: DoorReport) -> dict:
    return {
        "request": reference,
        "department": department,
        "policy": report.policy,
        "counts": report.counts,
        "flagged": report.flagged,
        "outcomes": [outcome_as_dict(o) for o in report.outcomes],
    }
