"""factory_boy factories for the records domain, and small image builders for intake tests."""

from __future__ import annotations

import datetime
import io
import zipfile

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from PIL import Image

from dedupe.models import DedupeRun, RunState
from records.models import (
    Department,
    DepartmentUploader,
    Packet,
    PacketState,
    RecordsRequest,
    RequestStatus,
    StatusTransition,
)
from records.roles import Role, ensure_role_groups


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Department {n}")
    code = factory.Sequence(lambda n: f"D{n}")
    authority_rank = 100


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@city.example")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def _with_role(user, role: Role):
    ensure_role_groups()
    user.groups.add(Group.objects.get(name=role.value))
    return user


def make_clerk(username: str = "clerk1"):
    return _with_role(UserFactory(username=username), Role.CLERK)


def make_manager(username: str = "manager1"):
    return _with_role(UserFactory(username=username), Role.MANAGER)


def make_uploader(department: Department, username: str | None = None):
    user = _with_role(
        UserFactory(username=username or f"uploader-{department.code.lower()}"), Role.DEPARTMENT_UPLOADER
    )
    DepartmentUploader.objects.update_or_create(user=user, defaults={"department": department})
    return user


class RecordsRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecordsRequest

    reference = factory.Sequence(lambda n: f"26-{n + 1:05d}")
    requester_name = "Ada Resident"
    requester_email = "ada@example.org"
    description = "Photos of the encampment at 5th and Main, March 2024"
    received_at = factory.LazyFunction(timezone.now)
    due_date = factory.LazyAttribute(
        lambda r: timezone.localtime(r.received_at).date() + datetime.timedelta(days=10)
    )
    status = RequestStatus.RECEIVED
    status_changed_at = factory.LazyFunction(timezone.now)


class StatusTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusTransition

    request = factory.SubFactory(RecordsRequestFactory)
    from_status = RequestStatus.RECEIVED
    to_status = RequestStatus.GATHERING
    at = factory.LazyFunction(timezone.now)


class PacketFactory(factory.django.DjangoModelFactory):
    """A released packet by default, with the counts a build stores."""

    class Meta:
        model = Packet

    request = factory.SubFactory(RecordsRequestFactory)
    version = factory.Sequence(lambda n: n + 1)
    state = PacketState.RELEASED
    requested_at = factory.LazyFunction(timezone.now)
    released_at = factory.LazyAttribute(lambda p: p.requested_at if p.state == PacketState.RELEASED else None)
    counts = factory.LazyFunction(dict)


class DedupeRunFactory(factory.django.DjangoModelFactory):
    """A completed run by default; `counts` holds its per-department metrics."""

    class Meta:
        model = DedupeRun

    request = factory.SubFactory(RecordsRequestFactory)
    state = RunState.COMPLETED
    created_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(lambda r: r.created_at if r.state == RunState.COMPLETED else None)
    counts = factory.LazyFunction(dict)


def jpeg_bytes(color=(200, 40, 40), size=(64, 48), quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(color=(20, 120, 200), size=(40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()
