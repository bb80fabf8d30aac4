"""Throttling per department token (and per user for sessions), so one busy system cannot
starve the others. Rates are in settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'].

Counts live in Django's cache: shared between processes when the cache is Redis, per
process with the default local-memory cache (a softer limit, which is acceptable for a
politeness limit; the library's correctness never depends on it).
"""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from ..models import DepartmentToken


class DepartmentTokenThrottle(SimpleRateThrottle):
    scope = "department_token"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, DepartmentToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None  # sessions are throttled per user below


class SessionUserThrottle(SimpleRateThrottle):
    scope = "session_user"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, DepartmentToken) or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
