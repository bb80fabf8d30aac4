"""Forms for the clerk's pages: they parse input; services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from .models import Department, Exemption, ExtensionGround, RequesterKind, RequestStatus


class OpenRequestForm(forms.Form):
    requester_name = forms.CharField(max_length=200, label="Requester's name")
    requester_email = forms.EmailField(required=False, label="Requester's e-mail")
    requester_organisation = forms.CharField(max_length=200, required=False, label="Organisation")
    requester_kind = forms.ChoiceField(choices=RequesterKind.choices, label="Requester is a")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Records requested")
    received_at = forms.DateTimeField(
        label="Received",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="When the request reached the city.",
    )
    office_of_record = forms.ModelChoiceField(
        queryset=Department.objects.all(), required=False, label="Department of record"
    )
    assigned_clerk = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(groups__name="clerk"), required=False, label="Assigned clerk"
    )


class ExtendForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=14, initial=14, label="Days of extension (at most 14)")
    ground = forms.ChoiceField(choices=ExtensionGround.choices, label="Unusual circumstance")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Written reason for the requester"
    )


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(choices=RequestStatus.choices, label="Move to")
    note = forms.CharField(required=False, max_length=500, label="Note")

    def __init__(self, *args, current: str | None = None, offered: list[str] | None = None, **kwargs):
        """With `current`, the form offers the current status (preselected) and `offered`, the
        moves the workflow allows from it. Without, it parses any status and the service decides."""
        super().__init__(*args, **kwargs)
        if current is not None:
            labels = dict(RequestStatus.choices)
            field = self.fields["to_status"]
            field.choices = [(current, f"{labels[current]} (now)")] + [(s, labels[s]) for s in offered or []]
            field.initial = current


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        # An empty file is intake's to refuse, with its own reason, beside the other files.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class UploadForm(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, label="Department"
    )
    files = MultipleFileField(required=False, label="Images or ZIP files")

    def __init__(self, *args, departments=None, sole_department=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments
        if sole_department is not None:
            # An uploader bound to one department has nothing to choose; the view fills it in.
            self.fields["department"].widget = forms.HiddenInput()
            self.fields["department"].initial = sole_department.pk


class TaskDepartmentsForm(forms.Form):
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Departments to ask",
    )
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Answer due by")
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="What to look for (note)"
    )


class TaskAnswerForm(forms.Form):
    files = MultipleFileField(required=False, label="Files to send")
    note = forms.CharField(required=False, max_length=1000, label="Note to the clerk")


class ReasonForm(forms.Form):
    image = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=500, label="Reason")


class MergeForm(forms.Form):
    """What to merge into a group: another group ("group-<id>", or a bare id) or an image in
    no group ("image-<id>")."""

    target = forms.CharField(max_length=40, label="Group or item to merge in")
    reason = forms.CharField(max_length=500, label="Reason")

    def clean_target(self) -> tuple[str, int]:
        value = self.cleaned_data["target"].strip()
        kind, _, number = value.rpartition("-")
        if not number.isdigit() or kind not in ("", "group", "image"):
            raise forms.ValidationError("Choose a group or an item to merge in.")
        return (kind or "group", int(number))


class MergeItemForm(forms.Form):
    group = forms.IntegerField(label="Group it belongs to")
    reason = forms.CharField(max_length=500, label="Reason")


class WithholdForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    exemption = forms.ModelChoiceField(queryset=Exemption.objects.filter(active=True), label="Exemption")
    note = forms.CharField(required=False, max_length=500, label="Description for the withholding log")


class BuildForm(forms.Form):
    every_copy = forms.BooleanField(required=False, label="Deliver every copy, not only authoritative ones")
    load_files = forms.BooleanField(required=False, label="Add eDiscovery load files (.dat/.opt)")


class ReleaseForm(forms.Form):
    valid_days = forms.IntegerField(min_value=1, max_value=365, initial=30, label="Link valid for (days)")


class DateRangeForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="To")


class RedactionForm(forms.Form):
    item = forms.IntegerField()
    page = forms.IntegerField(min_value=0, initial=0, required=False)
    x = forms.IntegerField(min_value=0)
    y = forms.IntegerField(min_value=0)
    width = forms.IntegerField(min_value=1)
    height = forms.IntegerField(min_value=1)
    exemption = forms.ModelChoiceField(queryset=Exemption.objects.filter(active=True))
