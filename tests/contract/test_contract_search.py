"""Run search: filters on every entity, ordering with missing values last, paging, malformed input."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from contract_support import finish, new_experiment, new_run

import ember
from ember.backend import Backend
from ember.entities import MetricSeries, RunSearch, RunStatus
from ember.errors import InvalidInput


@dataclass
class Catalog:
    """Six runs with known metrics, params, tags and statuses, in one experiment."""

    experiment_id: str
    ids: dict[str, str]  # display name -> run id


def _catalog(backend: Backend) -> Catalog:
    exp = new_experiment(backend, "search")
    spec = {
        # name: (loss or None, params, tags, final status or None)
        "a": (0.5, {"model": "logreg", "C": "1.0", "lr": "0.1"}, {"team": "vision"}, RunStatus.COMPLETED),
        "b": (0.05, {"model": "logreg", "C": "10", "lr": "0.01"}, {"team": "vision"}, RunStatus.COMPLETED),
        "c": (0.005, {"model": "svm", "C": "0.5", "lr": "big"}, {"team": "nlp"}, RunStatus.FAILED),
        "d": (None, {"model": "svm", "C": "2"}, {"team": "nlp", "extra": "yes"}, None),
        "e": (math.nan, {"model": "tree"}, {}, RunStatus.COMPLETED),
        "f": (5.0, {"model": "Logreg-Big"}, {"team": "Vision"}, RunStatus.CANCELED),
    }
    ids: dict[str, str] = {}
    for name, (loss, params, tags, status) in spec.items():
        run_id = new_run(backend, exp.id, display_name=name, tags=tags).info.id
        backend.tracking.log_params(run_id, params)
        if loss is not None:
            backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[99.0, loss])])
        if status is not None:
            finish(backend, run_id, status)
        ids[name] = run_id
    return Catalog(exp.id, ids)


@pytest.fixture
def catalog(backend: Backend) -> Catalog:
    return _catalog(backend)


def _names(
    backend: Backend, cat: Catalog, filter_: str | None = None, order_by: list[str] | None = None
) -> list[str]:
    by_id = {v: k for k, v in cat.ids.items()}
    page = backend.tracking.search_runs(
        RunSearch(experiment_ids=[cat.experiment_id], filter=filter_, order_by=order_by or [])
    )
    assert page.next_page_token is None
    return [by_id[r.info.id] for r in page.runs]


FILTERS = [
    ("metrics.loss < 0.1", "bc"),
    ("metrics.loss <= 0.5", "abc"),
    ("metrics.loss > 0.1", "af"),
    ("metrics.loss >= 5", "f"),
    ("metrics.loss = 0.05", "b"),
    ("metrics.loss != 0.05", "acf"),
    ("metrics.loss IN (0.5, 5)", "af"),
    ("params.model = 'logreg'", "ab"),
    ('params.model = "svm"', "cd"),
    ("params.model != 'logreg'", "cdef"),
    ("params.model LIKE 'log%'", "ab"),
    ("params.model ILIKE 'log%'", "abf"),
    ("params.model IN ('svm', 'tree')", "cde"),
    ("params.model NOT IN ('svm', 'tree')", "abf"),
    ("params.C < 1", "c"),
    ("params.C >= 2", "bd"),
    ("params.C = 1", "a"),
    ("params.C = '1.0'", "a"),
    ("params.lr < 1", "ab"),
    ("params.lr = 'big'", "c"),
    ("tags.team = 'vision'", "ab"),
    ("tags.team ILIKE 'vision'", "abf"),
    ("tags.team != 'vision'", "cdf"),
    ("tags.extra = 'yes'", "d"),
    ("attributes.status = 'Completed'", "abe"),
    ("attributes.status IN ('Failed', 'Canceled')", "cf"),
    ("attributes.status != 'Completed'", "cdf"),
    ("attributes.status = 'Running'", "d"),
    ("attributes.display_name = 'c'", "c"),
    ("attributes.run_name LIKE 'd'", "d"),
    ("metrics.loss < 1 and params.model = 'logreg' and tags.team = 'vision'", "ab"),
    ("metrics.loss < 1 AND attributes.status = 'Completed'", "ab"),
    ("params.model = 'logreg' and params.model = 'svm'", ""),
    ("metrics.missing > 0", ""),
    ("metric.loss < 0.1", "bc"),
    ("param.model = 'tree'", "e"),
    ("tag.team = 'nlp'", "cd"),
    ("attr.status = 'Canceled'", "f"),
]


def test_filters(backend: Backend, catalog: Catalog) -> None:
    # One catalog for every filter: building it per filter would cost a second per case and backend.
    wrong = {}
    for filter_, expected in FILTERS:
        found = "".join(sorted(_names(backend, catalog, filter_)))
        if found != expected:
            wrong[filter_] = f"found {found!r}, expected {expected!r}"
    assert wrong == {}


def test_filters_on_ids_and_times(backend: Backend, catalog: Catalog) -> None:
    a = catalog.ids["a"]
    assert _names(backend, catalog, f"attributes.run_id = '{a}'") == ["a"]
    assert _names(backend, catalog, f"attributes.id = '{a}'") == ["a"]
    assert sorted(_names(backend, catalog, f"attributes.experiment_id = '{catalog.experiment_id}'")) == list(
        "abcdef"
    )
    assert sorted(_names(backend, catalog, "attributes.created_time > 0")) == list("abcdef")
    assert _names(backend, catalog, "attributes.created_time < '2000-01-01T00:00:00Z'") == []
    assert sorted(_names(backend, catalog, "attributes.end_time > '2000-01-01'")) == list("abcef")
    assert sorted(_names(backend, catalog, "attributes.duration >= 0")) == list("abcef")
    assert sorted(_names(backend, catalog, "attributes.run_type = 'interactive'")) == list("abcdef")


def test_order_by_metric_puts_missing_values_last_both_ways(backend: Backend, catalog: Catalog) -> None:
    ascending = _names(backend, catalog, order_by=["metrics.loss ASC"])
    descending = _names(backend, catalog, order_by=["metrics.loss DESC"])
    assert ascending[:4] == ["c", "b", "a", "f"]
    assert sorted(ascending[4:]) == ["d", "e"]  # no loss, NaN loss
    assert descending[:4] == ["f", "a", "b", "c"]
    assert sorted(descending[4:]) == ["d", "e"]
    # ASC is the default direction.
    assert _names(backend, catalog, order_by=["metrics.loss"]) == ascending


def test_order_by_param_numbers_first_then_text_then_missing(backend: Backend, catalog: Catalog) -> None:
    order = _names(backend, catalog, order_by=["params.C ASC"])
    assert order[:4] == ["c", "a", "d", "b"]  # 0.5, 1.0, 2, 10 (as numbers, not text)
    assert sorted(order[4:]) == ["e", "f"]
    order = _names(backend, catalog, order_by=["params.C DESC"])
    assert order[:4] == ["b", "d", "a", "c"]
    assert sorted(order[4:]) == ["e", "f"]
    order = _names(backend, catalog, order_by=["params.lr ASC"])
    assert order[:3] == ["b", "a", "c"]  # 0.01, 0.1, then the text 'big'


def test_order_by_tag_and_attributes_with_tie_breaks(backend: Backend, catalog: Catalog) -> None:
    order = _names(backend, catalog, order_by=["tags.team ASC", "attributes.display_name DESC"])
    # 'Vision' < 'nlp' < 'vision' in byte order; runs without the tag last.
    assert order == ["f", "d", "c", "b", "a", "e"]
    assert _names(backend, catalog, order_by=["attributes.display_name ASC"]) == list("abcdef")
    assert _names(backend, catalog) == list("fedcba"), "default order: newest first"
    assert _names(backend, catalog, order_by=["attributes.created_time ASC"]) == list("abcdef")


def test_filter_and_order_together(backend: Backend, catalog: Catalog) -> None:
    found = _names(backend, catalog, "params.model LIKE '%'", ["metrics.loss DESC"])
    assert found[:4] == ["f", "a", "b", "c"]


@dataclass
class Row:
    """What the oracle knows of one run."""

    id: str
    created: float
    m: float | None  # None: no metric; NaN kept as NaN
    p: str | None
    t: str | None


def _populate(backend: Backend, n: int) -> tuple[str, list[Row]]:
    exp = new_experiment(backend, "oracle")
    for i in range(n):
        tags = {"t": f"t{i % 4}"} if i % 3 else {}
        run_id = new_run(backend, exp.id, tags=tags).info.id
        if i % 10:
            value = math.nan if i % 13 == 0 else float(i % 7)
            backend.tracking.log_metrics(run_id, [MetricSeries(key="m", values=[value])])
        if i % 6:
            backend.tracking.log_params(run_id, {"p": f"x{i % 3}" if i % 4 == 0 else str(i % 5)})
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], max_results=5000))
    rows = [
        Row(
            id=r.info.id,
            created=r.info.created_time.timestamp(),
            m=r.metrics.get("m"),
            p=r.params.get("p"),
            t=r.tags.get("t"),
        )
        for r in page.runs
    ]
    assert len(rows) == n
    return exp.id, rows


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _sorted(rows: list[Row], keys: list[tuple[str, bool]]) -> list[str]:
    """The order the grammar promises: missing (and NaN) last both ways; params numbers, then text."""
    out = sorted(rows, key=lambda r: r.id)  # the final tie-break
    for field, ascending in reversed(keys):
        if field == "created":
            out.sort(key=lambda r: r.created, reverse=not ascending)
        elif field == "m":
            present = [r for r in out if r.m is not None and not math.isnan(r.m)]
            missing = [r for r in out if r not in present]
            present.sort(key=lambda r: r.m or 0.0, reverse=not ascending)
            out = present + missing
        elif field == "p":
            numbers = [r for r in out if _number(r.p) is not None]
            texts = [r for r in out if r.p is not None and _number(r.p) is None]
            numbers.sort(key=lambda r: _number(r.p) or 0.0, reverse=not ascending)
            texts.sort(key=lambda r: r.p or "", reverse=not ascending)
            out = numbers + texts + [r for r in out if r.p is None]
        elif field == "t":
            present = [r for r in out if r.t is not None]
            present.sort(key=lambda r: r.t or "", reverse=not ascending)
            out = present + [r for r in out if r.t is None]
    return [r.id for r in out]


ORACLE_CASES: list[tuple[str | None, list[str], Callable[[Row], bool], list[tuple[str, bool]]]] = [
    (None, [], lambda r: True, [("created", False)]),
    (None, ["metrics.m ASC"], lambda r: True, [("m", True)]),
    (None, ["metrics.m DESC"], lambda r: True, [("m", False)]),
    (None, ["params.p ASC"], lambda r: True, [("p", True)]),
    (None, ["params.p DESC"], lambda r: True, [("p", False)]),
    (None, ["tags.t DESC", "metrics.m ASC"], lambda r: True, [("t", False), ("m", True)]),
    (
        "metrics.m >= 3",
        ["params.p DESC"],
        lambda r: r.m is not None and r.m >= 3,
        [("p", False)],
    ),
    ("tags.t = 't1'", [], lambda r: r.t == "t1", [("created", False)]),
    (
        "params.p < 3",
        ["attributes.created_time ASC"],
        lambda r: (_number(r.p) is not None) and (_number(r.p) or 0) < 3,
        [("created", True)],
    ),
    (
        "params.p LIKE 'x%' and metrics.m < 5",
        ["metrics.m DESC", "tags.t ASC"],
        lambda r: (r.p or "").startswith("x") and r.m is not None and r.m < 5,
        [("m", False), ("t", True)],
    ),
    (
        "tags.t IN ('t0', 't2') and params.p != '1'",
        ["params.p ASC", "attributes.created_time DESC"],
        lambda r: r.t in ("t0", "t2") and r.p is not None and r.p != "1",
        [("p", True), ("created", False)],
    ),
]


def test_paging_250_runs_matches_an_oracle_and_misses_and_repeats_nothing(backend: Backend) -> None:
    experiment_id, rows = _populate(backend, 250)
    wrong: dict[str, str] = {}
    for filter_, order_by, keep, keys in ORACLE_CASES:
        expected = _sorted([r for r in rows if keep(r)], keys)
        seen: list[str] = []
        token: str | None = None
        for _ in range(20):
            page = backend.tracking.search_runs(
                RunSearch(
                    experiment_ids=[experiment_id],
                    filter=filter_,
                    order_by=order_by,
                    max_results=17,
                    page_token=token,
                    count=token is None,  # the next pages' tokens work without it
                )
            )
            assert len(page.runs) <= 17
            if token is None and page.total_count != len(expected):
                wrong[f"{filter_} / {order_by} count"] = f"counted {page.total_count}, not {len(expected)}"
            assert not page.total_count_capped
            seen.extend(r.info.id for r in page.runs)
            token = page.next_page_token
            if token is None:
                break
        case = f"{filter_} / {order_by}"
        if len(seen) != len(set(seen)):
            wrong[case] = f"{len(seen) - len(set(seen))} runs listed twice"
        elif set(seen) != set(expected):
            wrong[case] = f"{len(set(expected) - set(seen))} missing, {len(set(seen) - set(expected))} extra"
        elif seen != expected:
            first = next(i for i, (a, b) in enumerate(zip(seen, expected, strict=True)) if a != b)
            wrong[case] = f"order differs from position {first}"
    assert wrong == {}

    # One page holding everything has no next page.
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[experiment_id], max_results=250))
    assert len(page.runs) == 250
    assert page.next_page_token is None
    assert page.total_count is None  # not asked for
    assert backend.tracking.search_runs(RunSearch(experiment_ids=[], count=True)).total_count == 0


def test_a_page_token_only_works_for_its_own_search(backend: Backend) -> None:
    exp = new_experiment(backend, "token")
    for _ in range(3):
        new_run(backend, exp.id)
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], max_results=1))
    assert page.next_page_token is not None
    with pytest.raises(InvalidInput):
        backend.tracking.search_runs(
            RunSearch(
                experiment_ids=[exp.id],
                filter="attributes.status = 'Running'",
                page_token=page.next_page_token,
            )
        )
    with pytest.raises(InvalidInput):
        backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], page_token="garbage!!"))


MALFORMED = [
    ("metrics.loss ~ 1", 13),
    ("params.model = logreg", 15),
    ("metrics.loss < 1 or tags.a = 'b'", 17),
    ("loss < 1", 0),
    ("metrics.loss < 1 and", 20),
    ("bogus.loss < 1", 0),
    ("tags.team = 'unterminated", 12),
    ("attributes.nope = 'x'", 11),
    ("metrics.loss < 'abc'", 15),
    ("tags.team = 1", 12),
    ("attributes.status = 'Done'", 20),
    ("metrics.loss IN ()", 17),
    ("metrics.loss < 1 and params.model", 33),
    ("metrics.loss LIKE 'a%'", 13),
]


def test_malformed_filters_say_where(backend: Backend) -> None:
    exp = new_experiment(backend, "malformed")
    wrong = {}
    for filter_, position in MALFORMED:
        try:
            backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], filter=filter_))
        except InvalidInput as exc:
            if type(exc) is not InvalidInput:
                wrong[filter_] = f"raised {type(exc).__name__}"
            elif exc.details.get("position") != position or f"position {position}" not in exc.message:
                wrong[filter_] = (
                    f"position {exc.details.get('position')!r}, expected {position}: {exc.message}"
                )
            elif exc.details.get("filter") != filter_:
                wrong[filter_] = f"details lack the filter: {exc.details}"
        else:
            wrong[filter_] = "accepted"
    assert wrong == {}


def test_malformed_order_by_is_refused(backend: Backend) -> None:
    exp = new_experiment(backend, "order")
    for order_by in (["loss"], ["metrics.loss SIDEWAYS"], ["metrics.loss ASC", "nope.x"], ["metrics."]):
        with pytest.raises(InvalidInput) as caught:
            backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], order_by=order_by))
        assert "position" in caught.value.details
        assert caught.value.details.get("index") == len(order_by) - 1


def test_max_results_beyond_the_cap_is_refused(backend: Backend) -> None:
    exp = new_experiment(backend, "cap")
    new_run(backend, exp.id)
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], max_results=5000))
    assert len(page.runs) == 1
    for bad in (5001, 0, -1):
        request = RunSearch.model_construct(
            experiment_ids=[exp.id],
            filter=None,
            order_by=[],
            max_results=bad,
            page_token=None,
            lifecycle="active",
            parent_run_id=None,
        )
        with pytest.raises(InvalidInput):
            backend.tracking.search_runs(request)


def test_sdk_refuses_max_results_beyond_the_cap(backend: Backend) -> None:
    ws = ember.Workspace(backend)
    with pytest.raises(InvalidInput):
        ws.search_runs(max_results=5001)


def test_unknown_experiment_id_finds_nothing(backend: Backend) -> None:
    # Decided by what LocalBackend does: an id that names no experiment is an empty scope, not NotFound.
    page = backend.tracking.search_runs(RunSearch(experiment_ids=["0" * 32]))
    assert page.runs == []
    assert page.next_page_token is None
    assert backend.tracking.search_runs(RunSearch(experiment_ids=[])).runs == []


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "a/b", "%2e%2e", "ABCDEF" + "0" * 26, "x" * 32])
def test_malformed_experiment_ids_in_a_search_are_invalid(backend: Backend, bad_id: str) -> None:
    with pytest.raises(InvalidInput):
        backend.tracking.search_runs(RunSearch(experiment_ids=[bad_id]))


def test_search_across_experiments_and_without_scope(backend: Backend) -> None:
    one = new_experiment(backend, "one")
    two = new_experiment(backend, "two")
    r1 = new_run(backend, one.id, tags={"marker": one.id}).info.id
    r2 = new_run(backend, two.id, tags={"marker": one.id}).info.id
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[one.id, two.id]))
    assert {r.info.id for r in page.runs} == {r1, r2}
    page = backend.tracking.search_runs(RunSearch(filter=f"tags.marker = '{one.id}'"))
    assert {r.info.id for r in page.runs} == {r1, r2}


def test_search_results_carry_full_details(backend: Backend, catalog: Catalog) -> None:
    page = backend.tracking.search_runs(
        RunSearch(experiment_ids=[catalog.experiment_id], filter="attributes.display_name = 'a'")
    )
    (run,) = page.runs
    assert run == backend.tracking.get_run(catalog.ids["a"])
    assert run.params == {"model": "logreg", "C": "1.0", "lr": "0.1"}
    assert run.metrics == {"loss": 0.5}
    assert run.tags == {"team": "vision"}


def test_quoted_keys_and_escapes(backend: Backend) -> None:
    exp = new_experiment(backend, "quoted")
    run_id = new_run(backend, exp.id, tags={"my tag": "it's", "pct": "100%", "us_x": "a_b"}).info.id
    other = new_run(backend, exp.id, tags={"pct": "100x", "us_x": "aXb"}).info.id
    assert run_id != other

    def found(filter_: str) -> list[str]:
        return [
            r.info.id
            for r in backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], filter=filter_)).runs
        ]

    assert found("tags.\"my tag\" = 'it''s'") == [run_id]
    assert found("tags.`my tag` = 'it\\'s'") == [run_id]
    assert found("tags.pct LIKE '100\\%'") == [run_id]
    assert found("tags.us_x LIKE 'a\\_b'") == [run_id]
    assert sorted(found("tags.us_x LIKE 'a_b'")) == sorted([run_id, other])
