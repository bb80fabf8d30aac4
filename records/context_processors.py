"""Values every page shows: the office's name and the user's role."""

from django.conf import settings

from .roles import is_clerk, is_manager, uploader_department


def office(request) -> dict:
    user = request.user
    return {
        "city_name": settings.PACKETDESK_CITY_NAME,
        "office_name": settings.PACKETDESK_OFFICE_NAME,
        "user_is_clerk": is_clerk(user),
        "user_is_manager": is_manager(user),
        "user_department": uploader_department(user),
    }
