"""`GET /api/v1/metrics?start=&end=`: the managers' dashboard numbers, as the dashboard shows them."""

from __future__ import annotations

import importlib

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ...errors import ApplicationError
from ..permissions import IsStaff
from ..serializers import MetricsQuerySerializer


class MetricsUnavailable(ApplicationError):
    code = "metrics_unavailable"
    http_status = 501


class MetricsView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True),
        ],
        responses={200: OpenApiTypes.OBJECT},
        operation_id="metrics",
    )
    def get(self, request: Request) -> Response:
        form = MetricsQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        # The dashboard owns the arithmetic (records/metrics.py); the API only serves it, so
        # the two can never disagree. It is looked up at call time because it is built separately.
        try:
            metrics = importlib.import_module("records.metrics")
        except ModuleNotFoundError as exc:
            raise MetricsUnavailable("The metrics dashboard is not installed in this version.") from exc
        numbers = metrics.dashboard_numbers(form.validated_data["start"], form.validated_data["end"])
        return Response(numbers)
