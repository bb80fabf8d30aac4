"""Server-rendered pages, one module per page: thin views that parse, call a service, render."""

import datetime

from django.http import HttpRequest, HttpResponse, JsonResponse


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True, "time": datetime.datetime.now(datetime.UTC).isoformat()})
