"""Withholdings, exemptions, packets (build, release) and requester links (revoke)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from ...models import RequesterLink
from ...selectors import items_visible_to, packets_visible_to, requests_visible_to
from ...services.packets import release, request_build, revoke_link
from ...services.withholding import release_withholding, withhold_item
from ..filters import PacketFilter, WithholdingFilter
from ..permissions import IsStaff
from ..selectors import exemptions_visible_to, withholdings_visible_to
from ..serializers import (
    BuildPacketSerializer,
    ExemptionSerializer,
    IssuedLinkSerializer,
    PacketSerializer,
    ReleaseSerializer,
    ReleaseWithholdingSerializer,
    RequesterLinkSerializer,
    WithholdingSerializer,
    WithholdSerializer,
)


class ExemptionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ExemptionSerializer
    permission_classes = [IsStaff]

    def get_queryset(self):
        return exemptions_visible_to(self.request.user)


class WithholdingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WithholdingSerializer
    filterset_class = WithholdingFilter
    permission_classes = [IsStaff]

    def get_queryset(self):
        return withholdings_visible_to(self.request.user)

    @extend_schema(request=WithholdSerializer, responses={201: WithholdingSerializer})
    def create(self, request: Request) -> Response:
        form = WithholdSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        item = get_object_or_404(items_visible_to(request.user), pk=form.validated_data["item"])
        exemption = get_object_or_404(
            exemptions_visible_to(request.user), pk=form.validated_data["exemption"]
        )
        withholding = withhold_item(
            actor=request.user, item=item, exemption=exemption, note=form.validated_data["note"]
        )
        return Response(WithholdingSerializer(withholding).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReleaseWithholdingSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="release")
    def release_item(self, request: Request, pk: str | None = None) -> Response:
        """Put the item back into the packet, with a reason (audited)."""
        withholding = self.get_object()
        form = ReleaseWithholdingSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        release_withholding(actor=request.user, item=withholding.item, reason=form.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PacketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PacketSerializer
    filterset_class = PacketFilter
    permission_classes = [IsStaff]

    def get_queryset(self):
        # Visibility is the selector's; the API adds only what its list shows and its order.
        return (
            packets_visible_to(self.request.user).prefetch_related("links").order_by("-requested_at", "-id")
        )

    @extend_schema(request=BuildPacketSerializer, responses={201: PacketSerializer})
    def create(self, request: Request) -> Response:
        """Queue a build from the latest dedupe run; poll the packet's `state`."""
        form = BuildPacketSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        records_request = get_object_or_404(
            requests_visible_to(request.user), pk=form.validated_data["request"]
        )
        packet = request_build(
            actor=request.user,
            records_request=records_request,
            every_copy=form.validated_data["every_copy"],
            load_files=form.validated_data["load_files"],
        )
        return Response(PacketSerializer(packet).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReleaseSerializer, responses={201: IssuedLinkSerializer})
    @action(detail=True, methods=["post"], url_path="release")
    def release_packet(self, request: Request, pk: str | None = None) -> Response:
        """Release a built packet and issue the requester's link (its token is shown once)."""
        packet = self.get_object()
        form = ReleaseSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        issued = release(actor=request.user, packet=packet, valid_days=form.validated_data["valid_days"])
        body = {"link": RequesterLinkSerializer(issued.link).data, "token": issued.token}
        return Response(body, status=status.HTTP_201_CREATED)


class RequesterLinkViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RequesterLinkSerializer
    permission_classes = [IsStaff]

    def get_queryset(self):
        return RequesterLink.objects.filter(packet__in=packets_visible_to(self.request.user)).order_by("-id")

    @extend_schema(request=None, responses={200: RequesterLinkSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        link = revoke_link(actor=request.user, link=self.get_object())
        return Response(RequesterLinkSerializer(link).data)
