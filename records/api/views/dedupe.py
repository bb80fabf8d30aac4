"""Dedupe runs (start, progress) and duplicate groups (list, override, split, merge)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from dedupe.models import ItemImage
from records.services.decisions import choose_authoritative, merge_groups, merge_item, split_member
from records.services.dedupe_runs import start_run

from ...errors import InvalidInput
from ...selectors import item_images_visible_to, requests_visible_to
from ..filters import DedupeRunFilter, DuplicateGroupFilter
from ..permissions import IsStaff
from ..selectors import groups_visible_to, runs_visible_to
from ..serializers import (
    DedupeRunSerializer,
    DuplicateGroupSerializer,
    MergeSerializer,
    OverrideSerializer,
    SplitSerializer,
    StartRunSerializer,
)


class DedupeRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A run's `percent`, `phase` and `remaining_seconds` are its progress; poll the run."""

    serializer_class = DedupeRunSerializer
    filterset_class = DedupeRunFilter
    permission_classes = [IsStaff]

    def get_queryset(self):
        return runs_visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=StartRunSerializer, responses={201: DedupeRunSerializer})
    def create(self, request: Request) -> Response:
        form = StartRunSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        records_request = get_object_or_404(
            requests_visible_to(request.user), pk=form.validated_data["request"].pk
        )
        run = start_run(actor=request.user, records_request=records_request)
        return Response(DedupeRunSerializer(run).data, status=status.HTTP_201_CREATED)


class DuplicateGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DuplicateGroupSerializer
    filterset_class = DuplicateGroupFilter
    permission_classes = [IsStaff]

    def get_queryset(self):
        return groups_visible_to(self.request.user)

    def _member_image(self, group, image_id: int) -> ItemImage:
        image = ItemImage.objects.filter(pk=image_id, memberships__group=group).first()
        if image is None:
            raise InvalidInput("That image is not a member of this group.", details={"image": image_id})
        return image

    def _fresh(self, group_id: int) -> Response:
        group = self.get_queryset().filter(pk=group_id).first()
        if group is None:  # a split that left one member dissolves the group
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(DuplicateGroupSerializer(group).data)

    @extend_schema(request=OverrideSerializer, responses={200: DuplicateGroupSerializer})
    @action(detail=True, methods=["post"])
    def override(self, request: Request, pk: str | None = None) -> Response:
        """Choose another member as the authoritative copy, with a reason (audited, survives re-runs)."""
        group = self.get_object()
        form = OverrideSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        image = self._member_image(group, form.validated_data["image"])
        choose_authoritative(
            actor=request.user, group=group, image=image, reason=form.validated_data["reason"]
        )
        return self._fresh(group.pk)

    @extend_schema(request=SplitSerializer, responses={200: DuplicateGroupSerializer, 204: None})
    @action(detail=True, methods=["post"])
    def split(self, request: Request, pk: str | None = None) -> Response:
        """Take a member out: not a duplicate, and never grouped with these again."""
        group = self.get_object()
        form = SplitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        image = self._member_image(group, form.validated_data["image"])
        split_member(actor=request.user, group=group, image=image, reason=form.validated_data["reason"])
        return self._fresh(group.pk)

    @extend_schema(request=MergeSerializer, responses={200: DuplicateGroupSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Merge another group of the same run, or an image in no group, into this one: the same record."""
        group = self.get_object()
        form = MergeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if "image" in form.validated_data:
            image = item_images_visible_to(request.user).filter(pk=form.validated_data["image"]).first()
            if image is None:
                raise InvalidInput("No such image.", details={"image": form.validated_data["image"]})
            merged = merge_item(
                actor=request.user, into=group, image=image, reason=form.validated_data["reason"]
            )
            return self._fresh(merged.pk)
        other = self.get_queryset().filter(pk=form.validated_data["other"]).first()
        if other is None or other.pk == group.pk or other.run_id != group.run_id:
            raise InvalidInput(
                "Merge with another group of the same run.", details={"other": form.validated_data["other"]}
            )
        merged = merge_groups(
            actor=request.user, into=group, other=other, reason=form.validated_data["reason"]
        )
        return self._fresh(merged.pk)
