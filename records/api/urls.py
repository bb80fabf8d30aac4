"""The versioned API: everything under /api/v1/."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from .views.dedupe import DedupeRunViewSet, DuplicateGroupViewSet
from .views.items import GatheredItemViewSet, RequestItemsUploadView
from .views.library import LibraryCheckView
from .views.metrics import MetricsView
from .views.packets import ExemptionViewSet, PacketViewSet, RequesterLinkViewSet, WithholdingViewSet
from .views.redactions import ItemRedactionViewSet
from .views.requests import RecordsRequestViewSet

app_name = "api"

router = DefaultRouter()
router.register("requests", RecordsRequestViewSet, basename="request")
router.register("items", GatheredItemViewSet, basename="item")
router.register("dedupe-runs", DedupeRunViewSet, basename="dedupe-run")
router.register("groups", DuplicateGroupViewSet, basename="group")
router.register("exemptions", ExemptionViewSet, basename="exemption")
router.register("withholdings", WithholdingViewSet, basename="withholding")
router.register("packets", PacketViewSet, basename="packet")
router.register("links", RequesterLinkViewSet, basename="link")

item_redactions = ItemRedactionViewSet.as_view({"get": "list", "post": "create"})
item_redaction = ItemRedactionViewSet.as_view({"delete": "destroy"})
item_redaction_confirm = ItemRedactionViewSet.as_view({"post": "confirm"})

urlpatterns = [
    path("items/<int:item_pk>/redactions/", item_redactions, name="item-redactions"),
    path("items/<int:item_pk>/redactions/<int:pk>/", item_redaction, name="item-redaction"),
    path(
        "items/<int:item_pk>/redactions/<int:pk>/confirm/",
        item_redaction_confirm,
        name="item-redaction-confirm",
    ),
    path("requests/<int:pk>/items/", RequestItemsUploadView.as_view(), name="request-items-upload"),
    path("library/check", LibraryCheckView.as_view(), name="library-check"),
    path("metrics/", MetricsView.as_view(), name="metrics"),
    *router.urls,
]
