"""Redactions on an item: list its boxes, draw one (optionally onto its duplicate group), delete, confirm.

Every write goes through records/services/redaction.py, which audits it; visibility comes
from the selectors (a clerk sees every item's boxes; nobody else sees any).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from ...models import GatheredItem
from ...packet.redact import Box
from ...selectors import items_visible_to, redactions_visible_to
from ...services.redaction import confirm_redaction, redact, remove_redaction
from ..permissions import IsClerk
from ..selectors import exemptions_visible_to
from ..serializers import RedactionCreatedSerializer, RedactionCreateSerializer, RedactionSerializer

ITEM_PARAMETER = OpenApiParameter(
    "item_pk", int, OpenApiParameter.PATH, description="The gathered item's id."
)


@extend_schema_view(
    list=extend_schema(parameters=[ITEM_PARAMETER], summary="An item's redaction boxes"),
    destroy=extend_schema(parameters=[ITEM_PARAMETER], summary="Remove a redaction box (audited)"),
)
class ItemRedactionViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = RedactionSerializer
    permission_classes = [IsClerk]
    pagination_class = None  # an item has a handful of boxes

    def _item(self) -> GatheredItem:
        return get_object_or_404(items_visible_to(self.request.user), pk=self.kwargs["item_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return redactions_visible_to(self.request.user).none()
        return redactions_visible_to(self.request.user).filter(item=self._item()).order_by("page", "id")

    @extend_schema(
        parameters=[ITEM_PARAMETER],
        request=RedactionCreateSerializer,
        responses={201: RedactionCreatedSerializer},
        summary="Draw a redaction box (upright pixels), optionally onto the duplicate group",
    )
    def create(self, request: Request, item_pk: int) -> Response:
        form = RedactionCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        item = self._item()
        exemption = get_object_or_404(exemptions_visible_to(request.user), pk=data["exemption"])
        created, mapped = redact(
            actor=request.user,
            item=item,
            box=Box(data["x"], data["y"], data["width"], data["height"]),
            exemption=exemption,
            page=data["page"],
            to_group=data["apply_to_group"],
        )
        body = {
            "redaction": RedactionSerializer(created).data,
            "mapped": RedactionSerializer(mapped, many=True).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance) -> None:
        remove_redaction(actor=self.request.user, redaction=instance)

    @extend_schema(
        parameters=[ITEM_PARAMETER],
        request=None,
        responses={200: RedactionSerializer},
        summary="Confirm a box mapped from another copy, so it is burned into the delivered file",
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, item_pk: int, pk: str | None = None) -> Response:
        return Response(
            RedactionSerializer(confirm_redaction(actor=request.user, redaction=self.get_object())).data
        )
