"""Every search, in one place: each module declares its query, its items and sample, and `perform`s."""

from searches import find_contact, find_dropoff
from searches.search import Search

SEARCHES: dict[str, Search] = {search.key: search for search in (find_contact.SEARCH, find_dropoff.SEARCH)}
