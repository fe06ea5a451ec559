"""Searches: `GET /v1/searches/<key>`, one documented route per search; no match is `200 []`."""

from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from searches import SEARCHES
from searches.search import Search

blp = Blueprint("searches", __name__, url_prefix="/v1", description="Find records, for Zapier and Make searches.")
blp.before_request(authenticate)


def _route(search: Search) -> None:
    def find(args):
        return search.perform(account_id(), args)

    find.__doc__ = f"{search.label}: {search.description}"
    view = blp.alt_response(200, schema=search.output(many=True), example=search.sample, success=True,
                            description="Newest first; `[]` when nothing matches.")(find)
    view = blp.arguments(search.input, location="query")(view)
    blp.route(f"/searches/{search.key}", endpoint=f"search_{search.key.replace('-', '_')}")(view)


for _search in SEARCHES.values():
    _route(_search)
