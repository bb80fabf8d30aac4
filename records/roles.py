"""The three staff roles, as Django groups with real permissions, questions about a user,
and the one guard per role that services call before they write.

A department uploader is also bound to one department (DepartmentUploader); everything
they see or add is limited to it by the selectors. Pages and the API ask the same
predicates (`is_clerk`, `is_staff_member`); only the form of the refusal differs at each edge.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.auth.models import User as SignedInUser

from .errors import NotPermitted
from .models import Department


class Role(StrEnum):
    CLERK = "clerk"
    MANAGER = "manager"
    DEPARTMENT_UPLOADER = "department_uploader"


# app_label.codename permissions each role's group holds.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.CLERK: (
        "records.view_department",
        "records.add_recordsrequest",
        "records.change_recordsrequest",
        "records.view_recordsrequest",
        "records.add_gathereditem",
        "records.change_gathereditem",
        "records.view_gathereditem",
        "records.view_auditevent",
    ),
    Role.MANAGER: (
        "records.view_department",
        "records.change_department",
        "records.view_recordsrequest",
        "records.view_gathereditem",
        "records.view_auditevent",
    ),
    Role.DEPARTMENT_UPLOADER: (
        "records.view_department",
        "records.add_gathereditem",
        "records.view_gathereditem",
    ),
}

# Settings keep Django's own user model (they name no AUTH_USER_MODEL), so whoever is signed
# in, a person or a department's API system user, is an auth.User (SignedInUser); a request's
# user may also be anonymous.
User = SignedInUser | AnonymousUser


def ensure_role_groups() -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def has_role(user: User, role: Role) -> bool:
    if not user.is_authenticated:
        return False
    return user.groups.filter(name=role.value).exists()


def is_clerk(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or has_role(user, Role.CLERK))


def is_manager(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or has_role(user, Role.MANAGER))


def is_staff_member(user: User) -> bool:
    """Clerks and managers: the records office, who see every department's requests."""
    return is_clerk(user) or is_manager(user)


def require_clerk(actor: User, message: str = "Only a clerk can do this.") -> None:
    """Refuse a write to anyone but a clerk, with NotPermitted (403, code "not_permitted").

    Each service names what the clerk alone may do in `message`; the API returns it as is.
    """
    if not is_clerk(actor):
        raise NotPermitted(message)


def require_staff(actor: User, message: str = "Only the records office can do this.") -> None:
    """Refuse anyone but a clerk or a manager, with NotPermitted (403, code "not_permitted")."""
    if not is_staff_member(actor):
        raise NotPermitted(message)


def uploader_department(user: User) -> Department | None:
    """The department a department uploader is bound to, or None for everyone else."""
    if not user.is_authenticated or not has_role(user, Role.DEPARTMENT_UPLOADER):
        return None
    binding = getattr(user, "uploader", None)
    return binding.department if binding else None


def can_gather_for(user: User, department: Department) -> bool:
    """Clerks gather for every department; an uploader only for their own."""
    if is_clerk(user):
        return True
    own = uploader_department(user)
    return own is not None and own.pk == department.pk


def signed_in_user(user: User | None) -> SignedInUser | None:
    """The account to record as having acted: the user when signed in, None for the system
    (a worker, a command, which pass None) or an anonymous caller."""
    return user if user is not None and user.is_authenticated else None
