"""The public-records domain, one concept per module.

Write paths live in `records/services/`, read paths in `records/selectors.py`; models
hold data, constraints and small derived properties only.
"""

from .api_tokens import DepartmentToken
from .audit import AuditEvent
from .departments import Department, DepartmentUploader
from .items import Blob, GatheredItem, ItemStatus
from .packets import Packet, PacketState, RequesterLink
from .redactions import Redaction
from .requests import (
    DETERMINED_STATUSES,
    FINISHED_STATUSES,
    GATHERING_STATUSES,
    OPEN_STATUSES,
    ExtensionGround,
    RecordsRequest,
    ReferenceCounter,
    RequesterKind,
    RequestStatus,
    StatusTransition,
)
from .tasking import DepartmentTask
from .withholding import Exemption, Withholding

__all__ = [
    "DETERMINED_STATUSES",
    "FINISHED_STATUSES",
    "GATHERING_STATUSES",
    "OPEN_STATUSES",
    "AuditEvent",
    "Blob",
    "Department",
    "DepartmentTask",
    "DepartmentToken",
    "DepartmentUploader",
    "Exemption",
    "ExtensionGround",
    "GatheredItem",
    "ItemStatus",
    "Packet",
    "PacketState",
    "RecordsRequest",
    "Redaction",
    "ReferenceCounter",
    "RequestStatus",
    "RequesterKind",
    "RequesterLink",
    "StatusTransition",
    "Withholding",
]
