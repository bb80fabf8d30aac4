"""Finding pages by their words: a request's pages whose text (a PDF's text layer or OCR)
holds every word asked for, and those words shown in context.

PostgreSQL's full-text search where the database is PostgreSQL ('simple' configuration: no
stemming, so case numbers, names and Spanish words match as written); on SQLite every word
must appear in the text (case-insensitive). The caller passes the pages a user may see
(records.selectors.item_images_visible_to): this module decides matches, never visibility.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from dedupe.models import ItemImage

M = TypeVar("M", bound=Model)

# At most this many words are searched for, and this many characters shown around a hit.
MAX_QUERY_WORDS = 12
CONTEXT_CHARACTERS = 70
_QUERY_WORD = re.compile(r"[\w'./#-]+", re.UNICODE)


@dataclass(frozen=True)
class PageHit:
    image: ItemImage
    context: SafeString  # the words around the first hit, HTML-escaped, hits in <mark>


def query_words(query: str) -> list[str]:
    """The words of a search box, without punctuation around them."""
    words = [w.strip(".-/#'") for w in _QUERY_WORD.findall(query)]
    return [w for w in words if w][:MAX_QUERY_WORDS]


def matching_pages(pages: QuerySet[M], query: str, text_field: str = "fingerprint__text") -> QuerySet[M]:
    """The rows of `pages` (ItemImages, or ImageFingerprints with text_field "text") whose
    words include every word of `query`."""
    words = query_words(query)
    if not words:
        return pages.none()
    with_text = pages.exclude(**{text_field: ""}).exclude(**{f"{text_field}__isnull": True})
    if connection.vendor == "postgresql":
        search = SearchQuery(" ".join(words), config="simple", search_type="plain")
        return with_text.annotate(words=SearchVector(text_field, config="simple")).filter(words=search)
    condition = Q()
    for word in words:
        condition &= Q(**{f"{text_field}__icontains": word})
    return with_text.filter(condition)


def words_in_context(text: str, query: str) -> SafeString:
    """The text around the first word of `query` found in it, escaped, the words marked."""
    words = query_words(query)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    flat = " ".join(text.split())
    first = pattern.search(flat)
    if first is None:
        return mark_safe(escape(flat[: 2 * CONTEXT_CHARACTERS]))  # escaped above
    start = max(0, first.start() - CONTEXT_CHARACTERS)
    end = min(len(flat), first.end() + CONTEXT_CHARACTERS)
    window = flat[start:end]
    marked, last = [], 0
    for hit in pattern.finditer(window):
        marked.append(escape(window[last : hit.start()]))
        marked.append(f"<mark>{escape(hit.group())}</mark>")
        last = hit.end()
    marked.append(escape(window[last:]))
    prefix = "… " if start else ""
    suffix = " …" if end < len(flat) else ""
    return mark_safe(prefix + "".join(marked) + suffix)  # every piece escaped


def search_hits(pages: QuerySet[ItemImage], query: str, limit: int = 50) -> list[PageHit]:
    """The first `limit` pages matching `query`, in key order, each with its words in context."""
    found = matching_pages(pages, query).select_related("item__department", "fingerprint").order_by("key")
    return [
        PageHit(image=page, context=words_in_context(page.fingerprint.text, query)) for page in found[:limit]
    ]
