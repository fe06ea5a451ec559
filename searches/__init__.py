"""Every search, in one place: each module declares its query, its items and sample, and `perform`s."""

from searches import find_contact, find_dropoff

SEARCHES = {search.KEY: search for search in (find_contact, find_dropoff)}
