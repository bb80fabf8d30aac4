"""Forms for the clerk's pages: they parse input; services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from .models import Department, ExtensionGround, RequesterKind, RequestStatus


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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
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

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments
