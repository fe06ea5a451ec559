"""Searches: `GET /v1/searches/<key>`, one documented route per search; no match is `200 []`."""

from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from searches import SEARCHES

blp = Blueprint("searches", __name__, url_prefix="/v1", description="Find records, for Zapier and Make searches.")
blp.before_request(authenticate)


def _route(search) -> None:
    def find(args):
        return search.perform(account_id(), args)

    find.__doc__ = f"{search.LABEL}: {search.DESCRIPTION}"
    view = blp.alt_response(200, schema=search.Output(many=True), example=search.SAMPLE, success=True,
                            description="Newest first; `[]` when nothing matches.")(find)
    view = blp.arguments(search.Input, location="query")(view)
    blp.route(f"/searches/{search.KEY}", endpoint=f"search_{search.KEY.replace('-', '_')}")(view)


for _search in SEARCHES.values():
    _route(_search)
