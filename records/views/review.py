"""The review page: duplicate groups side by side, the clerk's decisions, withholding and redaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dedupe.core.types import Relation
from records.services import decisions

from .. import selectors
from ..errors import ApplicationError
from ..forms import MergeForm, MergeItemForm, ReasonForm, RedactionForm, WithholdForm
from ..models import Withholding
from ..packet.redact import Box
from ..services import redaction as redaction_services
from ..services import withholding as withholding_services
from ..wording import (
    capture_label,
    date_source_words,
    hash_words,
    relation_words,
    rule_sentence,
    score_words,
)
from .common import json_error, require_clerk, require_staff, visible_request

GROUPS_PER_PAGE = 20
ITEMS_PER_PAGE = 60
MERGE_CHOICES_LIMIT = 400


@dataclass(frozen=True)
class MemberView:
    membership: Any
    image: Any
    item: Any
    relation_words: str
    hash_words: str
    score_words: str
    date_source_words: str
    capture_label: str


def _member_views(group) -> list[MemberView]:
    views = []
    memberships = list(group.memberships.all())
    # Pages read as documents get a document's words ("same page, scanned again").
    document = all(getattr(m.image.fingerprint, "document_like", False) for m in memberships)
    for m in memberships:
        item = m.image.item
        views.append(
            MemberView(
                membership=m,
                image=m.image,
                item=item,
                relation_words="Authoritative copy"
                if m.is_authoritative
                else relation_words(m.relation, document=document),
                hash_words=""
                if m.is_authoritative
                else hash_words(m.phash_distance, matched=m.relation != Relation.CLERK_MERGED),
                score_words="" if m.is_authoritative else score_words(m.verification_score),
                capture_label=capture_label(m.image.capture_date),
                date_source_words=date_source_words(m.image.capture_date_source),
            )
        )
    return views


@login_required
def review(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_staff(request.user)
    run = selectors.latest_completed_run(records_request)
    # Numbered and ordered as the index PDF lists them: one "Group n" everywhere.
    groups = selectors.groups_in_index_order(
        request.user, records_request, conflicts_only=request.GET.get("conflicts") == "1"
    )
    page = Paginator(groups, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    withheld = dict(
        Withholding.objects.filter(item__request=records_request)
        .select_related("exemption")
        .values_list("item_id", "exemption__code_section")
    )
    group_views = []
    for group in page:
        members = _member_views(group)
        group_views.append(
            {
                "group": group,
                "number": groups.number(group),
                "members": members,
                "rule_words": rule_sentence(group.rule),
            }
        )
    merge_choices = selectors.groups_in_index_order(request.user, records_request).choices()[
        :MERGE_CHOICES_LIMIT
    ]
    merge_images = list(
        selectors.ungrouped_images(request.user, records_request).values_list("pk", "key")[
            :MERGE_CHOICES_LIMIT
        ]
    )
    # Page by page: the pages of a PDF or TIFF that are in no group are listed even when
    # another page of the same file is in one.
    singles = Paginator(
        selectors.ungrouped_images(request.user, records_request).select_related("item__department"),
        ITEMS_PER_PAGE,
    ).get_page(request.GET.get("items"))
    unreadable = list(selectors.unreadable_images(request.user, records_request))
    refused = list(selectors.refused_items(request.user, records_request))
    return render(
        request,
        "records/review.html",
        {
            "rr": records_request,
            "run": run,
            "page": page,
            "group_views": group_views,
            "merge_choices": merge_choices,
            "merge_images": merge_images,
            "singles": singles,
            "unreadable": unreadable,
            "refused": refused,
            "unreadable_count": len(unreadable) + len(refused),
            "withheld": withheld,
            "exemptions": selectors.active_exemptions(),
            "conflicts_only": request.GET.get("conflicts") == "1",
            "redactions": _redactions_by_item(request.user, records_request),
        },
    )


def _redactions_by_item(user: Any, records_request) -> dict[int, list]:
    result: dict[int, list] = {}
    for r in selectors.redactions_visible_to(user).filter(item__request=records_request):
        result.setdefault(r.item_id, []).append(r)
    return result


@login_required
@require_GET
def image_preview(request: HttpRequest, image_id: int) -> HttpResponse:
    """The 256-px upright preview of one image, for whoever may see its item."""
    image = get_object_or_404(selectors.item_images_visible_to(request.user), pk=image_id)
    fp = image.fingerprint
    if fp is None or not fp.preview_jpeg:
        raise Http404("No preview for this image.")
    response = HttpResponse(bytes(fp.preview_jpeg), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _back(reference: str, request: HttpRequest, anchor: str = "") -> HttpResponse:
    url = reverse("records:review", args=[reference])
    query = request.POST.get("return_query", "")
    if query and all(c.isalnum() or c in "=&-_" for c in query):
        url += f"?{query}"
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _group_and_image(request: HttpRequest, records_request, group_id: int, image_id: int):
    group = get_object_or_404(selectors.current_groups(request.user, records_request), pk=group_id)
    image = get_object_or_404(selectors.item_images_visible_to(request.user), pk=image_id)
    return group, image


def _left_the_group(before: set[str], rows: list) -> str:
    """', N left the group: …' when a decision's regrouping took copies out of the group."""
    after = {m.image.key for row in rows if row is not None for m in row.memberships.all()}
    gone = sorted(before - after)
    if not gone:
        return "."
    return (
        f"; {len(gone)} cop{'y' if len(gone) == 1 else 'ies'} no longer match the authoritative copy and "
        f"left the group: {', '.join(gone[:3])}{' …' if len(gone) > 3 else ''}."
    )


@login_required
@require_POST
def choose_authoritative(request: HttpRequest, reference: str, group_id: int) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for choosing this copy; it is printed in the index.")
        return _back(reference, request, f"group-{group_id}")
    group, image = _group_and_image(request, records_request, group_id, form.cleaned_data["image"])
    before = {m.image.key for m in group.memberships.all()}
    try:
        chosen = decisions.choose_authoritative(
            actor=request.user, group=group, image=image, reason=form.cleaned_data["reason"]
        )
        messages.success(
            request,
            f"{image.key} is now the authoritative copy; every copy was compared with it again"
            + _left_the_group(before, [chosen]),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(reference, request, f"group-{group_id}")


@login_required
@require_POST
def accept_group(request: HttpRequest, reference: str, group_id: int) -> HttpResponse:
    """The review's 'a': the clerk accepts the group as it stands (audited)."""
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    group = get_object_or_404(selectors.current_groups(request.user, records_request), pk=group_id)
    decisions.accept_group(actor=request.user, group=group)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"accepted": True, "group": group.pk})
    messages.success(request, "Group accepted.")
    return _back(reference, request, f"group-{group_id}")


@login_required
@require_POST
def split_member(request: HttpRequest, reference: str, group_id: int) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason this is not a duplicate.")
        return _back(reference, request, f"group-{group_id}")
    group, image = _group_and_image(request, records_request, group_id, form.cleaned_data["image"])
    remaining = group
    before = {m.image.key for m in group.memberships.all()}
    try:
        remaining = decisions.split_member(
            actor=request.user, group=group, image=image, reason=form.cleaned_data["reason"]
        )
        staying = {m.image.key for m in remaining.memberships.all()} if remaining else set()
        others = sorted(before - staying - {image.key})
        with_it = (
            f" together with {', '.join(others)} (the same file or pixels)" if others and remaining else ""
        )
        messages.success(
            request,
            f"{image.key} split out{with_it}"
            + ("." if remaining else "; the group had no other copies left."),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(reference, request, f"group-{group_id}" if remaining is not None else "")


@login_required
@require_POST
def merge_groups(request: HttpRequest, reference: str, group_id: int) -> HttpResponse:
    """The group's merge box: another group, or an item in no group, is the same record."""
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the group or item to merge in and give the reason.")
        return _back(reference, request, f"group-{group_id}")
    groups = selectors.current_groups(request.user, records_request)
    into = get_object_or_404(groups, pk=group_id)
    kind, pk = form.cleaned_data["target"]
    reason = form.cleaned_data["reason"]
    try:
        if kind == "image":
            image = get_object_or_404(selectors.ungrouped_images(request.user, records_request), pk=pk)
            merged = decisions.merge_item(actor=request.user, into=into, image=image, reason=reason)
            messages.success(
                request, f"{image.key} merged into the group; its evidence says a clerk joined it."
            )
        else:
            other = get_object_or_404(groups, pk=pk)
            merged = decisions.merge_groups(actor=request.user, into=into, other=other, reason=reason)
            messages.success(request, f"Groups merged; the authoritative copy is {merged.authoritative.key}.")
        group_id = merged.pk
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(reference, request, f"group-{group_id}")


@login_required
@require_POST
def merge_item(request: HttpRequest, reference: str, image_id: int) -> HttpResponse:
    """An 'Items in no group' card: this item is the same record as a group's."""
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = MergeItemForm(request.POST)
    anchor = request.POST.get("anchor", "singles")
    if not form.is_valid():
        messages.error(request, "Choose the group it belongs to and give the reason.")
        return _back(reference, request, anchor)
    image = get_object_or_404(selectors.ungrouped_images(request.user, records_request), pk=image_id)
    into = get_object_or_404(
        selectors.current_groups(request.user, records_request), pk=form.cleaned_data["group"]
    )
    try:
        merged = decisions.merge_item(
            actor=request.user, into=into, image=image, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"{image.key} merged into the group; its evidence says a clerk joined it.")
        anchor = f"group-{merged.pk}"
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(reference, request, anchor)


@login_required
@require_POST
def withhold(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = WithholdForm(request.POST)
    anchor = request.POST.get("anchor", "")
    if not form.is_valid():
        messages.error(request, "Choose the exemption that applies.")
        return _back(reference, request, anchor)
    item = get_object_or_404(
        selectors.items_visible_to(request.user).filter(request=records_request), pk=form.cleaned_data["item"]
    )
    try:
        withholding_services.withhold_item(
            actor=request.user,
            item=item,
            exemption=form.cleaned_data["exemption"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, f"{item.gathered_path} withheld under {form.cleaned_data['exemption']}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(reference, request, anchor)


@login_required
@require_POST
def release_withholding(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    anchor = request.POST.get("anchor", "")
    item = get_object_or_404(
        selectors.items_visible_to(request.user).filter(request=records_request), pk=request.POST.get("item")
    )
    try:
        withholding_services.release_withholding(
            actor=request.user,
            item=item,
            reason=request.POST.get("reason", "").strip() or "released on review",
        )
        messages.success(request, f"{item.gathered_path} will be delivered again.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(reference, request, anchor)


# ------------------------------------------------------------------------ redaction (issue 8)


def _redaction_json(r) -> dict:
    return {
        "id": r.pk,
        "item": r.item_id,
        "page": r.page,
        "x": r.x,
        "y": r.y,
        "width": r.width,
        "height": r.height,
        "exemption": r.exemption_id,
        "exemption_label": str(r.exemption),
        "confirmed": r.confirmed,
        "mapped_from": r.mapped_from_id,
    }


@login_required
def redactions(request: HttpRequest, reference: str) -> JsonResponse:
    """GET: an item's boxes (?item=); POST: add one (coordinates in the upright image's pixels)."""
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    items = selectors.items_visible_to(request.user).filter(request=records_request)
    if request.method == "GET":
        item = get_object_or_404(items, pk=request.GET.get("item") or 0)
        boxes = selectors.redactions_visible_to(request.user).filter(item=item)
        if request.GET.get("page", "").isdigit():  # one page's boxes, for the editor showing it
            boxes = boxes.filter(page=int(request.GET["page"]))
        return JsonResponse({"redactions": [_redaction_json(r) for r in boxes]})
    if request.method != "POST":
        return JsonResponse({"error": {"code": "method", "message": "GET or POST"}}, status=405)
    form = RedactionForm(request.POST)
    if not form.is_valid():
        return JsonResponse(
            {"error": {"code": "invalid_input", "message": "Draw a box and choose its exemption."}},
            status=400,
        )
    data = form.cleaned_data
    item = get_object_or_404(items, pk=data["item"])
    try:
        created = redaction_services.add_redaction(
            actor=request.user,
            item=item,
            box=Box(data["x"], data["y"], data["width"], data["height"]),
            exemption=data["exemption"],
            page=data["page"] or 0,
        )
    except ApplicationError as exc:
        return json_error(exc)
    return JsonResponse({"redaction": _redaction_json(created)}, status=201)


def _visible_redaction(request: HttpRequest, records_request, redaction_id: int):
    return get_object_or_404(
        selectors.redactions_visible_to(request.user).filter(item__request=records_request), pk=redaction_id
    )


@login_required
@require_POST
def redaction_action(request: HttpRequest, reference: str, redaction_id: int, action: str) -> JsonResponse:
    """delete / confirm / apply-to-group on one box."""
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    box = _visible_redaction(request, records_request, redaction_id)
    try:
        if action == "delete":
            redaction_services.remove_redaction(actor=request.user, redaction=box)
            return JsonResponse({"deleted": redaction_id})
        if action == "confirm":
            return JsonResponse(
                {
                    "redaction": _redaction_json(
                        redaction_services.confirm_redaction(actor=request.user, redaction=box)
                    )
                }
            )
        if action == "group":
            mapped = redaction_services.apply_to_group(actor=request.user, redaction=box)
            return JsonResponse({"mapped": [_redaction_json(r) for r in mapped]})
    except ApplicationError as exc:
        return json_error(exc)
    raise Http404("Unknown action.")


VIEW_MAX_SIDE = 1600


@login_required
@require_GET
def item_view(request: HttpRequest, item_id: int) -> HttpResponse:
    """The item's page upright (EXIF orientation applied) at up to 1600 px, to draw redactions on."""
    import io

    from dedupe.core.pdf import PdfRefused
    from records.packet.redact import upright_page

    require_clerk(request.user)
    item = get_object_or_404(selectors.items_visible_to(request.user).filter(status="stored"), pk=item_id)
    page = int(request.GET.get("page", "0") or 0)
    # Only a page the engine could read is shown (and so offered for redaction).
    readable = selectors.item_images_visible_to(request.user).filter(
        item=item, page=page, unreadable_reason="", fingerprint__isnull=False
    )
    if not readable.exists():
        raise Http404("This file could not be read as an image, so it cannot be shown or redacted.")
    try:
        with item.blob.file.open("rb") as fh:
            upright, _ = upright_page(fh, page)  # a PDF page rendered as the engine saw it
        upright = upright.convert("RGB")
        upright.thumbnail((VIEW_MAX_SIDE, VIEW_MAX_SIDE))
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=85)
    except (OSError, EOFError, ValueError, PdfRefused) as exc:
        raise Http404(f"This image cannot be shown: {exc}")
    response = HttpResponse(out.getvalue(), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
