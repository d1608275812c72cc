"""Run search: the filter grammar and its errors, ordering, scope and paging, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from ember.entities.tracking import RunSearch
from ember.errors import InvalidInput
from ember.store import search
from ember.store.database import Database
from ember.store.schema import experiments, metric_latest, params, runs, tags
from ember.store.search import Comparison, OrderKey, parse_filter, parse_order_by, search_run_ids

EXP = "a" * 32
OTHER_EXP = "b" * 32
NAN = float("nan")


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


DAY1 = epoch("2026-11-27T10:00:00")


# -- arranging a workspace ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Database]:
    """An empty, migrated workspace database with two experiments, on each dialect."""
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path / "t.db")
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    database = Database(url)
    with database.write() as conn:
        conn.execute(
            insert(experiments),
            [
                {"id": EXP, "name": "main", "created_time": 0.0, "lifecycle_stage": "active"},
                {"id": OTHER_EXP, "name": "other", "created_time": 0.0, "lifecycle_stage": "active"},
            ],
        )
    yield database
    database.dispose()


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def add_runs(db: Database, specs: list[dict[str, Any]]) -> None:
    """Insert runs with their metrics (latest values; NaN stored as NULL), params and tags."""
    run_rows, metric_rows, param_rows, tag_rows = [], [], [], []
    for spec in specs:
        spec = dict(spec)
        run_id = spec.pop("id")
        for key, value in spec.pop("metrics", {}).items():
            metric_rows.append(
                {
                    "run_id": run_id,
                    "key": key,
                    "value": None if math.isnan(value) else value,
                    "step": 0,
                    "timestamp": 0.0,
                    "count": 1,
                    "next_seq": 1,
                }
            )
        for key, value in spec.pop("params", {}).items():
            param_rows.append({"run_id": run_id, "key": key, "value": value, "value_num": _number(value)})
        for key, value in spec.pop("tags", {}).items():
            tag_rows.append({"run_id": run_id, "key": key, "value": value})
        row = {
            "id": run_id,
            "experiment_id": EXP,
            "status": "Completed",
            "lifecycle_stage": "active",
            "run_type": "interactive",
            "created_time": DAY1,
            "parent_run_id": None,
            "display_name": None,
            "user_name": None,
            "start_time": None,
            "end_time": None,
        }
        row.update(spec)
        run_rows.append(row)
    with db.write() as conn:
        # Parents first, so that the parent_run_id foreign key holds.
        conn.execute(insert(runs), sorted(run_rows, key=lambda r: r["parent_run_id"] is not None))
        for table, rows in ((metric_latest, metric_rows), (params, param_rows), (tags, tag_rows)):
            if rows:
                conn.execute(insert(table), rows)


@pytest.fixture
def zoo(db: Database) -> Database:
    """Seven runs that cover every kind of value, NaN and missing key the grammar has to handle."""
    add_runs(
        db,
        [
            {
                "id": "r1",
                "display_name": "alpha",
                "user_name": "ann",
                "created_time": DAY1,
                "start_time": DAY1,
                "end_time": DAY1 + 100,
                "metrics": {"loss": 0.1, "acc": 0.9},
                "params": {"lr": "0.01", "opt": "adam", "C": "0.5"},
                "tags": {"team": "Vision", "env": "prod"},
            },
            {
                "id": "r2",
                "status": "Failed",
                "display_name": "beta",
                "user_name": "bob",
                "created_time": DAY1 + 86400,
                "start_time": DAY1 + 86400,
                "end_time": DAY1 + 86400 + 500,
                "metrics": {"loss": 0.5, "acc": NAN},
                "params": {"lr": "0.1", "opt": "sgd", "C": "10"},
                "tags": {"team": "vision"},
            },
            {
                "id": "r3",
                "status": "Running",
                "run_type": "sweep",
                "display_name": "Gamma",
                "created_time": DAY1 + 2 * 86400,
                "start_time": DAY1 + 2 * 86400,
                "metrics": {"loss": NAN},
                "params": {"lr": "1e-3", "opt": "Adam", "C": "abc"},
                "tags": {"team": "NLP", "env": "dev"},
            },
            {"id": "r4", "created_time": DAY1 + 3 * 86400},
            {"id": "r5", "experiment_id": OTHER_EXP, "metrics": {"loss": 0.2}, "created_time": DAY1 + 10},
            {"id": "r6", "lifecycle_stage": "archived", "metrics": {"loss": 0.3}, "created_time": DAY1 + 20},
            {"id": "r7", "parent_run_id": "r1", "display_name": "child", "created_time": DAY1 + 30},
        ],
    )
    return db


def find(db: Database, filter: str | None = None, order_by: list[str] | None = None, **kw: Any) -> list[str]:
    """Every page of a search, concatenated."""
    kw.setdefault("experiment_ids", [EXP])
    found: list[str] = []
    token = None
    while True:
        request = RunSearch(filter=filter, order_by=order_by or [], page_token=token, **kw)
        with db.read() as conn:
            ids, token = search_run_ids(conn, request)
        found += ids
        if token is None:
            return found


def check_cases(db: Database, cases: list[tuple[str, set[str]]]) -> None:
    wrong = {f: (sorted(find(db, f)), sorted(want)) for f, want in cases if set(find(db, f)) != want}
    assert not wrong, f"filter: (found, expected): {wrong}"


# -- filters: one table per entity kind -----------------------------------------------------------


def test_metric_filters_compare_latest_values_and_never_match_nan_or_missing(zoo: Database) -> None:
    check_cases(
        zoo,
        [
            ("metrics.loss < 0.3", {"r1"}),
            ("metrics.loss <= 0.5", {"r1", "r2"}),
            ("metrics.loss > 0.1", {"r2"}),
            ("metrics.loss >= 0.1", {"r1", "r2"}),
            ("metrics.loss = 0.5", {"r2"}),
            ("metrics.loss != 0.1", {"r2"}),  # not r3 (NaN) nor r4/r7 (no loss)
            ("metrics.loss IN (0.1, 0.5)", {"r1", "r2"}),
            ("metrics.loss NOT IN (0.1)", {"r2"}),
            ("metric.acc >= 0", {"r1"}),  # r2's acc is NaN
            ("metrics.acc != 12345", {"r1"}),
            ("metrics.nope > -1e300", set()),
            ("metrics.loss > -5e-1 and metrics.loss < +.2", {"r1"}),
        ],
    )


def test_param_filters_compare_text_with_strings_and_numbers_with_numbers(zoo: Database) -> None:
    check_cases(
        zoo,
        [
            ("params.opt = 'adam'", {"r1"}),
            ("params.opt != 'adam'", {"r2", "r3"}),
            ("params.opt > 'b'", {"r2"}),  # as text: 'sgd' only ('Adam' < 'b' in binary order)
            ("params.opt LIKE 'a%'", {"r1"}),
            ("params.opt ILIKE 'a%'", {"r1", "r3"}),
            ("params.opt IN ('sgd', 'Adam')", {"r2", "r3"}),
            ("params.opt NOT IN ('sgd')", {"r1", "r3"}),
            ("params.C < 2", {"r1"}),  # numerically; as text '10' < '2' would match too
            ("params.C = '10'", {"r2"}),
            ("params.C = 10", {"r2"}),
            ("params.C != 0.5", {"r2"}),  # 'abc' is no number, so it matches no numeric comparison
            ("params.C IN (0.5, 10)", {"r1", "r2"}),
            ("params.C NOT IN (10)", {"r1"}),
            ("params.lr < 0.05", {"r1", "r3"}),
            ("params.lr >= 1e-1", {"r2"}),
            ("param.nope != 'x'", set()),
        ],
    )


def test_tag_filters_are_text_and_ilike_ignores_case_while_like_does_not(zoo: Database) -> None:
    check_cases(
        zoo,
        [
            ("tags.team = 'vision'", {"r2"}),
            ("tags.team LIKE 'V%'", {"r1"}),
            ("tags.team LIKE 'v%'", {"r2"}),
            ("tags.team ILIKE 'VISION'", {"r1", "r2"}),
            ("tags.team ilike 'n_p'", {"r3"}),
            ("tags.team != 'NLP'", {"r1", "r2"}),
            ("tags.team IN ('NLP', 'Vision')", {"r1", "r3"}),
            ("tags.team not in ('NLP')", {"r1", "r2"}),
            ("tags.team < 'W'", {"r1", "r3"}),
            ("tags.env = 'prod' AND tags.team = 'Vision'", {"r1"}),
            ("tag.nope != 'x'", set()),
        ],
    )


def test_attribute_filters(zoo: Database) -> None:
    check_cases(
        zoo,
        [
            ("attributes.status = 'Completed'", {"r1", "r4", "r7"}),
            ("attributes.status != 'Completed'", {"r2", "r3"}),
            ("attributes.status IN ('Failed', 'Running')", {"r2", "r3"}),
            ("attributes.status LIKE 'Fail%'", {"r2"}),
            ("run.run_name LIKE '%a'", {"r1", "r2", "r3"}),
            ("attributes.display_name LIKE 'g%'", set()),
            ("attributes.display_name ILIKE 'g%'", {"r3"}),
            ("attributes.run_name NOT IN ('alpha')", {"r2", "r3", "r7"}),  # r4 has no name
            ("attributes.user = 'ann'", {"r1"}),
            ("attributes.run_id IN ('r1', 'r4')", {"r1", "r4"}),
            ("attributes.id = 'r2'", {"r2"}),
            ("attributes.run_type = 'sweep'", {"r3"}),
            (f"attributes.experiment_id = '{EXP}'", {"r1", "r2", "r3", "r4", "r7"}),
            ("attribute.duration > 200", {"r2"}),
            ("attributes.duration <= 100", {"r1"}),  # r3 has no end, so no duration
        ],
    )


def test_time_attributes_take_iso_8601_or_epoch_seconds(zoo: Database) -> None:
    check_cases(
        zoo,
        [
            ("attributes.created_time >= '2026-11-28'", {"r2", "r3", "r4"}),
            ("attributes.created_time < '2026-11-27T10:00:01Z'", {"r1"}),
            ("attributes.created_time = '2026-11-27T11:00:00+01:00'", {"r1"}),
            (f"attributes.created_time = {DAY1}", {"r1"}),
            ("attributes.start_time > '2026-11-28T00:00:00'", {"r2", "r3"}),
            ("attributes.end_time <= '2026-11-27 10:01:40'", {"r1"}),
            ("attributes.end_time > 0", {"r1", "r2"}),
        ],
    )
    assert parse_filter("attributes.start_time > '2026-11-27'")[0].value == epoch("2026-11-27T00:00:00")


def test_comparisons_are_anded(zoo: Database) -> None:
    assert set(find(zoo, "metrics.loss < 1 and params.opt = 'sgd'")) == {"r2"}
    assert set(
        find(zoo, "metrics.loss < 1 AND tags.team ILIKE 'vision' and attributes.status = 'Completed'")
    ) == {"r1"}


def test_scope_by_experiment_lifecycle_and_parent(zoo: Database) -> None:
    assert "r5" not in find(zoo)
    assert set(find(zoo, experiment_ids=[OTHER_EXP])) == {"r5"}
    assert set(find(zoo, "metrics.loss < 1", experiment_ids=None)) == {"r1", "r2", "r5"}
    assert find(zoo, lifecycle="archived") == ["r6"]
    assert "r6" in find(zoo, lifecycle="all")
    assert find(zoo, parent_run_id="r1") == ["r7"]
    assert find(zoo, experiment_ids=[EXP, OTHER_EXP], order_by=["attributes.created_time"])[:2] == [
        "r1",
        "r5",
    ]
    assert find(zoo, experiment_ids=[]) == []


def test_an_invalid_experiment_id_is_refused(zoo: Database) -> None:
    with pytest.raises(InvalidInput, match="32 lowercase hex"):
        find(zoo, experiment_ids=["A" * 32])


# -- ordering -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([], ["r4", "r3", "r2", "r7", "r1"]),  # created_time DESC
        (["metrics.loss"], ["r1", "r2", "r3", "r4", "r7"]),  # NaN (r3) and missing last
        (["metrics.loss DESC"], ["r2", "r1", "r3", "r4", "r7"]),
        (["params.C ASC"], ["r1", "r2", "r3", "r4", "r7"]),  # 0.5 < 10 as numbers, then 'abc', then missing
        (["params.C desc"], ["r2", "r1", "r3", "r4", "r7"]),
        (["tags.team"], ["r3", "r1", "r2", "r4", "r7"]),  # 'NLP' < 'Vision' < 'vision', then missing
        (["tags.team DESC"], ["r2", "r1", "r3", "r4", "r7"]),
        (["attributes.duration DESC"], ["r2", "r1", "r3", "r4", "r7"]),
        (["attributes.duration"], ["r1", "r2", "r3", "r4", "r7"]),
        (["attributes.run_name"], ["r3", "r1", "r2", "r7", "r4"]),
        (["attributes.run_name DESC"], ["r7", "r2", "r1", "r3", "r4"]),
        (["tags.env", "metrics.loss DESC"], ["r3", "r1", "r2", "r4", "r7"]),
        (["attributes.status", "attributes.created_time DESC"], ["r4", "r7", "r1", "r2", "r3"]),
    ],
)
def test_ordering_puts_missing_values_last_in_both_directions(
    zoo: Database, order_by: list[str], expected: list[str]
) -> None:
    assert find(zoo, order_by=order_by) == expected
    # Small pages take other plans (an index-ordered probe); they must agree with one big page.
    for size in (1, 2, 3):
        assert find(zoo, order_by=order_by, max_results=size) == expected


def test_default_order_breaks_ties_by_run_id(db: Database) -> None:
    add_runs(db, [{"id": f"t{i}", "created_time": 5.0} for i in (3, 1, 2)])
    assert find(db) == ["t1", "t2", "t3"]


def _expected_order(specs: list[dict[str, Any]], key: str, ascending: bool) -> list[str]:
    def sort_key(spec: dict[str, Any]) -> tuple[Any, ...]:
        value = spec.get("metrics", {}).get(key)
        if value is None or math.isnan(value):
            return (1, 0.0, spec["id"])
        return (0, value if ascending else -value, spec["id"])

    return [s["id"] for s in sorted(specs, key=sort_key)]


def test_probe_and_sort_plans_agree_page_by_page(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny probe window makes the index-ordered probe stop at a bound inside ties, NaNs and gaps.
    monkeypatch.setattr(search, "_WINDOW_MIN", 4)
    probed: list[bool] = []
    original = search._probe

    def spy(*args: Any) -> list[str] | None:
        result = original(*args)
        probed.append(result is not None)
        return result

    monkeypatch.setattr(search, "_probe", spy)
    specs: list[dict[str, Any]] = []
    for i in range(60):
        spec: dict[str, Any] = {
            "id": f"p{i:02d}",
            "created_time": float(i // 4),
            "params": {"half": "ab"[i % 2]},
        }
        if i % 7:
            spec["metrics"] = {"m": NAN if i % 11 == 0 else round((i * 37 % 10) / 10, 1)}
        specs.append(spec)
    add_runs(db, specs)
    evens = [s for s in specs if s["params"]["half"] == "a"]
    for ascending in (True, False):
        order = ["metrics.m" + ("" if ascending else " DESC")]
        for size in (1, 3, 7, 100):
            assert find(db, order_by=order, max_results=size) == _expected_order(specs, "m", ascending)
            got = find(db, "params.half = 'a'", order_by=order, max_results=size)
            assert got == _expected_order(evens, "m", ascending)
    by_created = sorted(evens, key=lambda s: (-s["created_time"], s["id"]))
    for size in (1, 2, 5, 100):
        assert find(db, "params.half = 'a'", max_results=size) == [s["id"] for s in by_created]
    assert any(probed), "the probe never found a page"
    assert not all(probed), "the probe never had to give way to the sort"


# -- paging ---------------------------------------------------------------------------------------


def test_paging_through_250_runs_returns_each_exactly_once(db: Database) -> None:
    add_runs(
        db,
        [
            {"id": f"run{i:03d}", "created_time": float(i // 3), "metrics": {"m": (i * 7919) % 101 / 7}}
            for i in range(250)
        ],
    )
    for order_by in ([], ["metrics.m DESC"]):
        pages: list[list[str]] = []
        token = None
        while True:
            request = RunSearch(experiment_ids=[EXP], order_by=order_by, max_results=100, page_token=token)
            with db.read() as conn:
                ids, token = search_run_ids(conn, request)
            pages.append(ids)
            if token is None:
                break
        assert [len(p) for p in pages] == [100, 100, 50]
        everything = [run_id for page in pages for run_id in page]
        assert len(set(everything)) == 250
        assert everything == find(db, order_by=order_by, max_results=250)


def test_a_page_token_only_works_for_its_own_search(zoo: Database) -> None:
    with zoo.read() as conn:
        ids, token = search_run_ids(conn, RunSearch(experiment_ids=[EXP], max_results=2))
        assert token is not None
        assert len(ids) == 2
        again = RunSearch(experiment_ids=[EXP], max_results=2, page_token=token)
        assert search_run_ids(conn, again)[0] == find(zoo)[2:4]
        for other in (
            RunSearch(experiment_ids=[EXP], max_results=2, page_token=token, filter="metrics.loss > 0"),
            RunSearch(experiment_ids=[EXP], max_results=2, page_token=token, order_by=["metrics.loss"]),
            RunSearch(experiment_ids=[EXP], max_results=2, page_token=token, lifecycle="all"),
            RunSearch(experiment_ids=None, max_results=2, page_token=token),
            RunSearch(experiment_ids=[EXP], max_results=2, page_token="not a token!"),
            RunSearch(experiment_ids=[EXP], max_results=2, page_token="eyJvIjogLTF9"),  # {"o": -1}
        ):
            with pytest.raises(InvalidInput, match="page_token does not belong to this search"):
                search_run_ids(conn, other)


# -- the grammar ----------------------------------------------------------------------------------


def test_parse_filter_reads_aliases_quoted_keys_escapes_and_numbers() -> None:
    text = (
        "metric.`train loss` <= -1.5e-3 and param.\"batch size\" in (1, +2, .5) AND run.run_name like 'it''s'"
        " and tags.note = 'a\\'b\\\\c' and attr.id != \"x\\\"y\" and tags.p = 'a\\_b'"
        " and params.a-b.c:d/e = 'v'"
    )
    parsed = parse_filter(text)
    assert parsed == [
        Comparison("metrics", "train loss", "<=", -1.5e-3),
        Comparison("params", "batch size", "IN", (1.0, 2.0, 0.5)),
        Comparison("attributes", "display_name", "LIKE", "it's"),
        Comparison("tags", "note", "=", "a'b\\c"),
        Comparison("attributes", "run_id", "!=", 'x"y'),
        Comparison("tags", "p", "=", "a\\_b"),  # kept: the backslash escapes the LIKE wildcard
        Comparison("params", "a-b.c:d/e", "=", "v"),
    ]
    starts = ["metric.`", 'param."', "run.run_name", "tags.note", "attr.id", "tags.p ", "params.a-b"]
    assert [c.position for c in parsed] == [text.index(s) for s in starts]
    assert parse_filter(None) == parse_filter("   ") == []


def test_like_treats_backslash_as_an_escape_on_every_dialect(db: Database) -> None:
    add_runs(db, [{"id": "u1", "tags": {"p": "a_b"}}, {"id": "u2", "tags": {"p": "axb"}}])
    assert find(db, "tags.p LIKE 'a\\_b'") == ["u1"]
    assert set(find(db, "tags.p LIKE 'a_b'")) == {"u1", "u2"}


def test_parse_order_by() -> None:
    assert parse_order_by(["metrics.`val loss` DESC", "attribute.run_name", "tag.x asc", "param.y"]) == [
        OrderKey("metrics", "val loss", ascending=False),
        OrderKey("attributes", "display_name"),
        OrderKey("tags", "x"),
        OrderKey("params", "y"),
    ]
    for item, position in (
        ("metrics.loss UP", 13),
        ("metrics", 0),
        ("metrics.loss DESC x", 18),
        ("foo.x", 0),
    ):
        with pytest.raises(InvalidInput) as caught:
            parse_order_by(["metrics.a", item])
        assert caught.value.details == {"position": position, "order_by": item, "index": 1}
        assert caught.value.message.startswith(f"invalid order_by[1] at position {position}: ")


LONG_FILTER = "metrics.a > 0 and " * 600 + "metrics.a > 0"


@pytest.mark.parametrize(
    ("text", "position", "says"),
    [
        (
            "metrics.loss 0.5",
            13,
            "expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN) after 'metrics.loss'",
        ),
        ("metrics.loss < 1 or metrics.acc > 0", 17, "OR is not supported; run two searches"),
        ("params.opt = 'adam", 13, "unterminated string"),
        ("metrics.`a b = 1", 8, "unterminated quoted key"),
        ("foo.bar = 1", 0, "unknown entity 'foo'"),
        ("attributes.colour = 'red'", 11, "unknown attribute colour"),
        ("status = 'Completed'", 0, "did you mean attributes.status"),
        ("metrics. = 1", 8, "expected a key after 'metrics.'"),
        ("metrics.loss IN ()", 17, "the IN list is empty"),
        ("metrics.loss IN 1", 16, "expected '(' and a list of values after IN"),
        ("params.x IN ('a' 'b')", 17, "expected ',' or ')'"),
        ("params.x IN ('a', 1)", 18, "mixes strings and numbers"),
        ("metrics.loss < 1 garbage", 17, "expected AND or the end of the filter"),
        ("metrics.loss < 1 and", 20, "expected a comparison after AND"),
        ("metrics.loss <", 14, "expected a value (a quoted string or a number), found the end"),
        ("metrics.loss < 'a'", 15, "metrics.loss takes numbers"),
        ("metrics.loss < NaN", 15, "NaN is not a filter literal"),
        ("metrics.loss == 1", 14, "expected a value"),
        ("metrics.loss LIKE '%a'", 13, "LIKE applies to text"),
        ("params.lr ILIKE 0.1", 16, "ILIKE needs a quoted pattern"),
        ("tags.team = 5", 12, "tags.team takes strings: quote it, like '5'"),
        ("tags.team = vision", 12, "found 'vision'"),
        ("params.x NOT LIKE 'a'", 13, "expected IN after NOT"),
        ("attributes.start_time > 'yesterday'", 24, "is not a time"),
        ("attributes.status = 'Done'", 20, "unknown status 'Done'"),
        ("(metrics.loss < 1)", 0, "expected <entity>.<key>"),
        (LONG_FILTER, 10_000, "the limit is 10000"),
    ],
)
def test_malformed_filters_say_where_and_what(text: str, position: int, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text)
    error = caught.value
    assert error.details == {"position": position, "filter": text}
    assert error.message.startswith(f"invalid filter at position {position}: ")
    assert says in error.message
    if len(text) < 80:  # the snippet is the whole filter, with a caret under the spot
        snippet, caret = error.message.splitlines()[1:3]
        assert snippet.strip() == text
        assert caret.index("^") - snippet.index(text[0]) == position


def test_search_reports_filter_errors_as_invalid_input(zoo: Database) -> None:
    with pytest.raises(InvalidInput, match="position 13"):
        find(zoo, "metrics.loss 0.5")
    with pytest.raises(InvalidInput, match="order_by"):
        find(zoo, order_by=["metrics"])


def test_counting_runs_stops_at_the_cap(db: Database) -> None:
    add_runs(db, [{"id": f"{i:032x}", "metrics": {"loss": i / 10}} for i in range(1, 8)])
    every = RunSearch(experiment_ids=[EXP])
    low = RunSearch(experiment_ids=[EXP], filter="metrics.loss < 0.35")
    elsewhere = RunSearch(experiment_ids=[OTHER_EXP])

    with db.read() as conn:
        assert search.count_runs(conn, every, cap=100) == 7
        assert search.count_runs(conn, every, cap=5) == 5
        assert search.count_runs(conn, low, cap=100) == 3
        assert search.count_runs(conn, elsewhere, cap=100) == 0
        with pytest.raises(InvalidInput):
            search.count_runs(conn, RunSearch(experiment_ids=[EXP], filter="metrics.loss <"), cap=100)
