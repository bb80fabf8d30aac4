"""A department's own task list: what the clerk asked for, answered by uploading or by 'none'."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import selectors
from ..errors import ApplicationError
from ..forms import TaskAnswerForm
from ..services import tasking
from .common import json_error, wants_json


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    tasks = selectors.tasks_visible_to(request.user).order_by("state", "due_date", "department__code")
    today = timezone.localdate()
    rows = [(t, (t.due_date - today).days) for t in tasks[:500]]
    return render(request, "records/my_tasks.html", {"rows": rows, "answer_form": TaskAnswerForm()})


@login_required
@require_POST
def task_answer(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_visible_to(request.user), pk=task_id)
    form = TaskAnswerForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose files to send.")
        return redirect("records:my-tasks")
    try:
        if request.POST.get("answer") == "none":
            tasking.answer_none(actor=request.user, task=task, note=form.cleaned_data["note"])
            messages.success(request, f"Answered {task.request.reference}: no responsive records.")
        else:
            files = [(f.name, f) for f in form.cleaned_data["files"]]
            report = tasking.answer_with_files(
                actor=request.user, task=task, files=files, note=form.cleaned_data["note"]
            )
            counts = report.counts
            messages.success(
                request,
                f"{task.request.reference}: {counts['stored']} stored, "
                f"{counts['already_in_request']} already in this request, {counts['refused']} refused.",
            )
            for outcome in report.outcomes:
                if outcome.result == "refused":
                    messages.warning(request, f"{outcome.name}: {outcome.reason}")
    except ApplicationError as exc:
        if wants_json(request):
            return json_error(exc)
        messages.error(request, exc.message)
    return redirect("records:my-tasks")
