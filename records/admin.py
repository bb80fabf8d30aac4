"""Django admin registrations for the records domain's rows (for administrators, not clerks)."""

from django.contrib import admin

from .models import (
    AuditEvent,
    Blob,
    Department,
    DepartmentUploader,
    GatheredItem,
    RecordsRequest,
    StatusTransition,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "office_of_record_for", "authority_rank", "upload_policy")
    search_fields = ("name", "code")


@admin.register(DepartmentUploader)
class DepartmentUploaderAdmin(admin.ModelAdmin):
    list_display = ("user", "department")
    list_select_related = ("user", "department")


class StatusTransitionInline(admin.TabularInline):
    model = StatusTransition
    extra = 0
    readonly_fields = ("from_status", "to_status", "at", "actor", "note")
    can_delete = False


@admin.register(RecordsRequest)
class RecordsRequestAdmin(admin.ModelAdmin):
    list_display = ("reference", "requester_name", "requester_kind", "status", "received_at", "due_date")
    list_filter = ("status", "requester_kind")
    search_fields = ("reference", "requester_name", "requester_email")
    inlines = [StatusTransitionInline]
    # Status and deadlines change through the services, which audit and check the workflow.
    readonly_fields = (
        "reference",
        "status",
        "status_changed_at",
        "due_date",
        "extended_due_date",
        "extension_days",
    )


@admin.register(GatheredItem)
class GatheredItemAdmin(admin.ModelAdmin):
    list_display = ("original_path", "request", "department", "status", "detected_format", "byte_size")
    list_filter = ("status", "department", "detected_format")
    search_fields = ("original_path", "sha256", "request__reference")
    list_select_related = ("request", "department")
    raw_id_fields = ("blob",)


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    list_display = ("sha256", "byte_size", "created_at")
    search_fields = ("sha256",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "verb", "object_type", "object_id", "request")
    list_filter = ("verb", "object_type")
    search_fields = ("actor_label", "object_id", "request__reference")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
