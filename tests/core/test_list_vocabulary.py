"""Every list of the API router speaks one query vocabulary (apps.core.listing).

The lists are read from the router, not named here: a list added tomorrow is
checked too.
"""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request

from apps.core.listing import allowed_query_params
from config.api_router import router
from tests.conftest import token_client

LIST_ENDPOINTS = [
    pytest.param(prefix, viewset, id=prefix)
    for prefix, viewset, _basename in router.registry
    if hasattr(viewset, "list")
]


@pytest.fixture
def hq_api(org):
    return token_client(org.users["hq"])


def _required(viewset, org) -> dict:
    """Query parameters a list needs to answer at all (a member's notes name the member)."""
    if "member" in getattr(viewset, "extra_query_params", ()):
        return {"member": org.members["G-SH01"].pk}
    return {}


def _get(client, prefix, **params):
    return client.get(f"/api/v1/{prefix}/", params)


def test_the_router_has_lists_to_check():
    assert len(LIST_ENDPOINTS) >= 12


@pytest.mark.parametrize(("prefix", "viewset"), LIST_ENDPOINTS)
def test_each_list_declares_its_date_and_its_ordering(prefix, viewset):
    assert "list_date" in vars(viewset), f"{prefix}: say which date date_from/date_to mean"
    assert vars(viewset).get("ordering_fields"), f"{prefix}: declare ordering_fields"


@pytest.mark.parametrize(("prefix", "viewset"), LIST_ENDPOINTS)
def test_an_unknown_query_parameter_is_a_400_naming_it(hq_api, org, prefix, viewset):
    response = _get(hq_api, prefix, **_required(viewset, org), colour="red")

    assert response.status_code == 400
    assert "colour" in response.json()
    assert "Unknown query parameter 'colour'" in response.json()["colour"][0]


@pytest.mark.parametrize(("prefix", "viewset"), LIST_ENDPOINTS)
def test_ordering_and_page_size_are_taken_alike(hq_api, org, prefix, viewset):
    first_field = viewset.ordering_fields[0]

    response = _get(hq_api, prefix, **_required(viewset, org), ordering=f"-{first_field}",
                    page_size=1)  # fmt: skip
    wrong_field = _get(hq_api, prefix, **_required(viewset, org), ordering="colour")
    zero_rows = _get(hq_api, prefix, **_required(viewset, org), page_size=0)

    assert response.status_code == 200, response.json()
    assert len(response.json()["results"]) <= 1
    assert wrong_field.status_code == 400
    assert first_field in wrong_field.json()["ordering"][0]
    assert zero_rows.status_code == 400 and "page_size" in zero_rows.json()


@pytest.mark.parametrize(("prefix", "viewset"), LIST_ENDPOINTS)
def test_date_from_and_date_to_where_the_list_has_a_date(hq_api, org, prefix, viewset):
    required = _required(viewset, org)

    in_range = _get(hq_api, prefix, **required, date_from="2026-01-01", date_to="2026-12-31")
    bad = _get(hq_api, prefix, **required, date_from="01/02/2026")
    backwards = _get(hq_api, prefix, **required, date_from="2026-02-01", date_to="2026-01-01")

    if viewset.list_date is None:
        assert in_range.status_code == 400 and "date_from" in in_range.json()
        return
    assert in_range.status_code == 200, in_range.json()
    assert bad.status_code == 400 and "date_from" in bad.json()
    assert backwards.status_code == 400 and "date_to" in backwards.json()


def test_the_schema_documents_every_query_parameter_a_list_takes(rf, org):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for prefix, viewset, _basename in router.registry:
        if not hasattr(viewset, "list"):
            continue
        view = viewset(action="list", format_kwarg=None)
        view.request = Request(rf.get("/", _required(viewset, org)))
        view.request.user = org.users["hq"]
        documented = {
            parameter["name"]
            for parameter in schema["paths"][f"/api/v1/{prefix}/"]["get"].get("parameters", [])
        }
        accepted = allowed_query_params(view, view.request, view.get_queryset()) - {"format"}

        assert accepted == documented, prefix


def test_count_is_exact_up_to_the_cap_then_says_there_are_more(hq_api, org, monkeypatch):
    # Given a list of more stores than the cap on counting (lowered for the test)
    from apps.core import listing
    from apps.stores.models import Store

    stores = Store.objects.count()
    assert stores >= 3
    monkeypatch.setattr(listing, "COUNT_EXACT_UP_TO", stores - 1)

    # When an integrator pages through it two at a time
    seen, page, answers = [], 1, []
    while page:
        answer = _get(hq_api, "stores", page=page, page_size=2).json()
        answers.append(answer)
        seen += [row["code"] for row in answer["results"]]
        page = page + 1 if answer["next"] else None
    past_the_end = _get(hq_api, "stores", page=len(answers) + 1, page_size=2)

    # Then the count stops at the cap and says so, and `next` still walks every row once
    assert {(a["count"], a["count_exact"]) for a in answers} == {(stores - 1, False)}
    assert sorted(seen) == sorted(Store.objects.values_list("code", flat=True))
    assert past_the_end.status_code == 404
    # And below the cap the count is exact, as before
    monkeypatch.setattr(listing, "COUNT_EXACT_UP_TO", stores)
    exact = _get(hq_api, "stores", page_size=2).json()
    assert (exact["count"], exact["count_exact"]) == (stores, True)


def _queried_reads():
    """GET operations of the schema that take query parameters, the router's or not."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        parameters = item.get("get", {}).get("parameters", [])
        if "{" not in path and any(p["in"] == "query" for p in parameters):
            yield pytest.param(path, id=path)


@pytest.mark.parametrize("path", list(_queried_reads()))
def test_every_read_with_query_parameters_refuses_an_unknown_one(hq_api, org, path):
    required = {"member": org.members["G-SH01"].pk} if path == "/api/v1/notes/" else {}

    response = hq_api.get(path, {**required, "colour": "red"})

    assert response.status_code == 400
    assert "Unknown query parameter 'colour'" in response.json()["colour"][0]
