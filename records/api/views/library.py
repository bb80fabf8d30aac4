"""`POST /api/v1/library/check`: is this image already anywhere in the city's records?"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dedupe.library import answer_as_dict, query_for_hashes, query_for_image
from records.services.library_door import check_library

from ...errors import InvalidInput
from ..serializers import LibraryAnswerSerializer, LibraryCheckSerializer


class LibraryCheckView(APIView):
    """Exact matches (same bytes or pixels) and near-duplicates, with where each was seen.

    Any authenticated caller may ask, a department system included: saying *that* and
    *where* the city already holds an image is the point of the check at the door. The
    items themselves stay behind the usual visibility rules.
    """

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": LibraryCheckSerializer, "application/json": LibraryCheckSerializer},
        responses={200: LibraryAnswerSerializer},
        operation_id="library_check",
    )
    def post(self, request: Request) -> Response:
        form = LibraryCheckSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data.get("image"):
            content = data["image"].read(settings.PACKETDESK_MAX_FILE_BYTES + 1)
            if len(content) > settings.PACKETDESK_MAX_FILE_BYTES:
                raise InvalidInput("The image is larger than the size limit for one file.")
            query = query_for_image(content, radius=data.get("radius"))
        else:
            query = query_for_hashes(
                sha256=data.get("sha256"),
                phash_hex=data.get("phash"),
                dhash_hex=data.get("dhash"),
                radius=data.get("radius"),
            )
        return Response(answer_as_dict(check_library(query)))
