r"""Run search: the filter and order-by grammar, and the SQL that finds one page of runs.

Filter (MLflow's grammar, with more)::

    filter     := comparison ( AND comparison )*                 -- no OR: run two searches
    comparison := entity "." key op value
    entity     := metrics | params | tags | attributes   (or metric, param, tag, attribute, attr, run)
    key        := [A-Za-z0-9_\-.:/]+ | "quoted key" | `quoted key`
    op         := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN    -- keywords in any case
    value      := literal | "(" literal ( "," literal )* ")"                 -- a list after IN only
    literal    := 'string' | "string" | number           -- escapes: \' \" \\ or a doubled quote

Metrics compare their latest value with numbers; params as text with a string, as numbers with a
number (``params.lr < 0.1``); tags as text. Attributes status, display_name (run_name), user (user_id),
run_id (id), run_type, experiment_id take strings; start_time, end_time, created_time epoch seconds or
ISO-8601 (naive = UTC); duration (end_time - start_time) seconds. A run without the key never matches,
nor does a NaN metric. Other backslashes in strings are kept: they escape LIKE wildcards. Order by
``<entity>.<key> [ASC|DESC]``, then run id (default ``attributes.created_time DESC``); runs without the
key or with a NaN metric sort last both ways; params sort numbers first, then text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Connection, FromClause, Table, and_, literal, select

from ember.entities.tracking import MAX_RESULTS_CAP, RunSearch, RunStatus
from ember.errors import InvalidInput
from ember.store.schema import metric_latest, params, runs, tags

__all__ = ["MAX_KEYS", "Comparison", "OrderKey", "count_runs", "experiment_keys", "parse_filter"]
__all__ += ["parse_order_by"]
__all__ += ["search_run_ids"]

EntityKind = Literal["metrics", "params", "tags", "attributes"]
Operator = Literal["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"]
Scalar = str | float
Value = Scalar | tuple[Scalar, ...]
MAX_FILTER_LENGTH = 10_000

_KINDS: tuple[EntityKind, ...] = ("metrics", "params", "tags", "attributes")
_ENTITIES: dict[str, EntityKind] = {alias: kind for kind in _KINDS for alias in (kind, kind[:-1])}
_ENTITIES.update(attr="attributes", run="attributes")
_ATTRIBUTE_ALIASES = {"run_name": "display_name", "id": "run_id", "user_id": "user"}
_ATTRIBUTE_TYPES: dict[str, Literal["string", "time", "number"]] = {
    **dict.fromkeys(("status", "display_name", "user", "run_id", "run_type", "experiment_id"), "string"),
    **dict.fromkeys(("start_time", "end_time", "created_time"), "time"),
    "duration": "number",
}
_SYMBOL_OPS: tuple[Operator, ...] = ("!=", "<=", ">=", "=", "<", ">")  # longest first
_WORD_OPS: dict[str, Operator] = {"LIKE": "LIKE", "ILIKE": "ILIKE", "IN": "IN"}
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_\-.:/]+")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.])")
_EXPERIMENT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_QUOTED_RE = {q: re.compile(rf"{q}((?:[^{q}\\]|\\.|{q}{q})*){q}", re.S) for q in "'\""}
_UNESCAPE_RE = {q: re.compile(rf"\\([\\'\"])|{q}{q}") for q in "'\""}
_QUOTED_RE["`"], _UNESCAPE_RE["`"] = re.compile(r"`((?:[^`]|``)*)`"), re.compile("``()")  # no backslashes
_STATUSES = sorted(s.value for s in RunStatus)


@dataclass(frozen=True)
class Comparison:
    """One ``entity.key op value`` of a filter; attributes by canonical name, times in epoch seconds."""

    kind: EntityKind
    key: str
    op: Operator
    value: Value
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class OrderKey:
    """One ``entity.key [ASC|DESC]`` sort key."""

    kind: EntityKind
    key: str
    ascending: bool = True


class _Scanner:
    """A cursor over filter (or order-by) text whose errors say where and what was expected."""

    def __init__(self, text: str, label: str, details: dict[str, object]) -> None:
        self.text, self.pos, self.label, self.details = text, 0, label, details

    def at_end(self) -> bool:
        """Skip white space; True when nothing is left."""
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.pos >= len(self.text)

    def word(self) -> str:
        return m.group(0) if (m := _WORD_RE.match(self.text, self.pos)) else ""

    def error(self, what: str, pos: int | None = None) -> InvalidInput:
        at = self.pos if pos is None else pos
        lo, hi = max(0, at - 40), min(len(self.text), at + 40)
        head, tail = "..." if lo else "", "..." if hi < len(self.text) else ""
        snippet = "".join(" " if ch.isspace() else ch for ch in self.text[lo:hi])
        caret = " " * (len(head) + at - lo) + "^"
        message = f"invalid {self.label} at position {at}: {what}\n    {head}{snippet}{tail}\n    {caret}"
        return InvalidInput(message, details={"position": at, **self.details})

    def quoted(self, what: str) -> str:
        quote = self.text[self.pos]
        if not (m := _QUOTED_RE[quote].match(self.text, self.pos)):
            raise self.error(f"unterminated {what}: add the closing {quote}")
        self.pos = m.end()
        return _UNESCAPE_RE[quote].sub(lambda e: e.group(1) or quote, m.group(1))

    def entity_key(self) -> tuple[EntityKind, str]:
        """Read ``entity.key``; attributes come back under their canonical name."""
        self.at_end()
        start, word = self.pos, self.word()
        self.pos += len(word)
        if not word or not self.text.startswith(".", self.pos):
            hint = f"; did you mean attributes.{word}" if word.lower() in _ATTRIBUTE_TYPES else ""
            raise self.error(f"expected <entity>.<key>, such as metrics.loss or tags.team{hint}", start)
        if (kind := _ENTITIES.get(word.lower())) is None:
            raise self.error(f"unknown entity {word!r}; use metrics., params., tags. or attributes.", start)
        key, key_pos = "", self.pos + 1
        self.pos = key_pos
        if self.text[self.pos : self.pos + 1] in ('"', "`"):
            key = self.quoted("quoted key")
        elif m := _BARE_KEY_RE.match(self.text, self.pos):
            key, self.pos = m.group(0), m.end()
        if not key:
            raise self.error(f"expected a key after '{word}.' (quote one with spaces in \"\")", key_pos)
        if kind == "attributes":
            key = _ATTRIBUTE_ALIASES.get(key.lower(), key.lower())
            if key not in _ATTRIBUTE_TYPES:
                known = ", ".join(sorted(_ATTRIBUTE_TYPES))
                raise self.error(f"unknown attribute {self.text[key_pos : self.pos]}; use {known}", key_pos)
        return kind, key

    def operator(self, subject: str) -> tuple[Operator, int]:
        """Read an operator; return it and where it starts. ``subject`` is the key before it."""
        self.at_end()
        start = self.pos
        for op in _SYMBOL_OPS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op, start
        word = self.word().upper()
        if word == "NOT":
            self.pos += 3
            if self.at_end() or self.word().upper() != "IN":
                raise self.error("expected IN after NOT (NOT IN is the only negated operator)")
            self.pos += 2
            return "NOT IN", start
        if (word_op := _WORD_OPS.get(word)) is None:
            raise self.error(f"expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN) after {subject!r}")
        self.pos += len(word)
        return word_op, start

    def literal(self) -> tuple[Scalar, int]:
        """Read a literal; return it and where it starts."""
        at_end, start = self.at_end(), self.pos
        if not at_end and self.text[self.pos] in "'\"":
            return self.quoted("string"), start
        if m := _NUMBER_RE.match(self.text, self.pos):
            self.pos = m.end()
            return float(m.group(0)), start
        if (word := self.word()).lower() == "nan":
            raise self.error("NaN is not a filter literal: NaN values never match any comparison")
        found = "the end" if at_end else repr(word or self.text[self.pos])
        raise self.error(f"expected a value (a quoted string or a number), found {found}")

    def values(self, op: Operator) -> list[tuple[Scalar, int]]:
        """The literal after an operator, or the parenthesised list after IN / NOT IN."""
        if op not in ("IN", "NOT IN"):
            return [self.literal()]
        if self.at_end() or self.text[self.pos] != "(":
            raise self.error("expected '(' and a list of values after IN, like ('a', 'b') or (1, 2)")
        self.pos += 1
        if not self.at_end() and self.text[self.pos] == ")":
            raise self.error("the IN list is empty; give at least one value")
        values = [self.literal()]
        while not self.at_end() and self.text[self.pos] == ",":
            self.pos += 1
            values.append(self.literal())
        if self.at_end() or self.text[self.pos] != ")":
            raise self.error("expected ',' or ')' in the IN list")
        self.pos += 1
        return values


def _check_types(scanner: _Scanner, c: Comparison, values: list[tuple[Scalar, int]]) -> Comparison:
    """Enforce what each entity compares with; turn time literals into epoch seconds."""
    subject, op = f"{c.kind}.{c.key}", c.op
    param = "string" if isinstance(values[0][0], str) else "number"
    kind_of = {"metrics": "number", "tags": "string", "params": param}.get(c.kind) or _ATTRIBUTE_TYPES[c.key]
    if op in ("LIKE", "ILIKE") and kind_of != "string":
        if c.kind == "params":
            raise scanner.error(f"{op} needs a quoted pattern, like '%abc%'", values[0][1])
        raise scanner.error(f"{op} applies to text; {subject} is a number", c.position)
    out: list[Scalar] = []
    for value, pos in values:
        mixed = "the IN list mixes strings and numbers" if out else ""
        if kind_of == "number" and isinstance(value, str):
            raise scanner.error(f"{mixed or subject + ' takes numbers'}, not the string {value!r}", pos)
        if kind_of == "string" and not isinstance(value, str):
            raise scanner.error(f"{mixed or subject + ' takes strings'}: quote it, like '{value:g}'", pos)
        if kind_of == "time" and isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                hint = "use epoch seconds or ISO-8601 like '2026-11-27T10:00:00Z'"
                raise scanner.error(f"{value!r} is not a time: {hint}", pos) from None
            value = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
        exact = op in ("=", "!=", "IN", "NOT IN")
        if (c.kind, c.key) == ("attributes", "status") and exact and value not in _STATUSES:
            raise scanner.error(f"unknown status {value!r}; use one of {', '.join(_STATUSES)}", pos)
        out.append(value)
    return replace(c, value=tuple(out) if op in ("IN", "NOT IN") else out[0])


def parse_filter(text: str | None) -> list[Comparison]:
    """Parse a search filter into comparisons that all have to hold.

    Args:
        text: The filter, in the grammar of this module's docstring; None or blank means none.

    Returns:
        The comparisons, in the order written.

    Raises:
        InvalidInput: The filter is malformed; ``details["position"]`` is the 0-based offset where
            parsing broke, and the message shows that spot and what was expected there.
    """
    if text is None:
        return []
    scanner = _Scanner(text, "filter", {"filter": text})
    if len(text) > MAX_FILTER_LENGTH:
        too_long = f"the filter is {len(text)} characters long; the limit is {MAX_FILTER_LENGTH}"
        raise scanner.error(too_long, MAX_FILTER_LENGTH)
    comparisons: list[Comparison] = []
    while not scanner.at_end():
        start = scanner.pos
        kind, key = scanner.entity_key()
        op, op_pos = scanner.operator(text[start : scanner.pos])
        c = _check_types(scanner, Comparison(kind, key, op, "", op_pos), scanner.values(op))
        comparisons.append(replace(c, position=start))
        if scanner.at_end():
            break
        word = scanner.word().lower()
        if word == "or":
            raise scanner.error("OR is not supported; run two searches and combine the results")
        if word != "and":
            raise scanner.error("expected AND or the end of the filter")
        scanner.pos += 3
        if scanner.at_end():
            raise scanner.error("expected a comparison after AND")
    return comparisons


def parse_order_by(items: list[str]) -> list[OrderKey]:
    """Parse order-by items such as ``metrics.loss DESC`` or ``attributes.start_time``.

    Args:
        items: Each ``<entity>.<key> [ASC|DESC]``, with the filter's key syntax.

    Returns:
        The sort keys in order, without the implicit run-id tie-breaker.

    Raises:
        InvalidInput: An item is malformed; ``details`` holds its ``index`` and the ``position``.
    """
    keys: list[OrderKey] = []
    for index, item in enumerate(items):
        scanner = _Scanner(item, f"order_by[{index}]", {"order_by": item, "index": index})
        kind, key = scanner.entity_key()
        direction = "ASC" if scanner.at_end() else scanner.word().upper()
        scanner.pos += len(direction) if direction in ("ASC", "DESC") and not scanner.at_end() else 0
        if direction not in ("ASC", "DESC") or not scanner.at_end():
            raise scanner.error("expected ASC, DESC or the end of the item")
        keys.append(OrderKey(kind, key, direction == "ASC"))
    return keys


# -- SQL ------------------------------------------------------------------------------------------
# SQLite plans without statistics and reaches a run's rows through text-keyed indexes: "scan the runs,
# test, sort" costs a quarter of a second at 100,000 runs. So pages are planned here (on SQLite from
# capped counts on the (key, value) indexes; PostgreSQL has statistics and picks the driver itself):
# 1. Probe: when the first sort key can be read in order from an index (metric_latest or tags (key,
#    value), params (key, value_num), created_time in one experiment and lifecycle) and the expected
#    walk is short, walk it to a bound (its W-th entry), testing runs with EXISTS. Entries up to the
#    bound are a prefix of the whole order, so a full page found there is exact, ties included.
# 2. Else drive from the most selective condition: join runs to it, test the rest with EXISTS, LEFT
#    OUTER JOIN each sort key (its key in the ON clause) and sort what is left.

_QUERY_FIELDS = {"experiment_ids", "filter", "order_by", "lifecycle", "parent_run_id"}  # what a token is for
_WINDOW_MIN = 2_000
_COUNT_CAP = 100_000
_ATTRIBUTE_COLUMNS: dict[str, ColumnElement[Any]] = {n: runs.c[n] for n in _ATTRIBUTE_TYPES if n in runs.c}
_ATTRIBUTE_COLUMNS.update(user=runs.c.user_name, run_id=runs.c.id)
_ATTRIBUTE_COLUMNS["duration"] = runs.c.end_time - runs.c.start_time
_NOT_NULL_ATTRIBUTES = {"status", "run_id", "run_type", "experiment_id", "created_time"}
_TABLES: dict[EntityKind, Table] = {"metrics": metric_latest, "params": params, "tags": tags}
_COMPARE = {"=": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}


def _compare(column: ColumnElement[Any], op: Operator, value: Value) -> ColumnElement[bool]:
    if isinstance(value, tuple):
        return column.in_(value) if op == "IN" else column.not_in(value)
    if op in ("LIKE", "ILIKE"):  # backslash escapes on both dialects (PostgreSQL's default, not SQLite's)
        return column.like(value, escape="\\") if op == "LIKE" else column.ilike(value, escape="\\")
    result: ColumnElement[bool] = getattr(column, _COMPARE[op])(value)
    return result


def _row_condition(c: Comparison, table: FromClause) -> list[ColumnElement[bool]]:
    """The condition on a metric_latest/params/tags row of ``c.key`` (params: numbers as numbers)."""
    sample = c.value[0] if isinstance(c.value, tuple) else c.value
    column = table.c.value_num if c.kind == "params" and not isinstance(sample, str) else table.c.value
    return [table.c.key == c.key, _compare(column, c.op, c.value)]


def _condition(c: Comparison) -> ColumnElement[bool]:
    """A condition on ``runs``: attributes directly, the others as EXISTS on the (run_id, key) key."""
    if c.kind == "attributes":
        return _compare(_ATTRIBUTE_COLUMNS[c.key], c.op, c.value)
    table = _TABLES[c.kind]
    return sa.exists().where(table.c.run_id == runs.c.id, *_row_condition(c, table))


def _ordering(keys: list[OrderKey], source: FromClause) -> tuple[FromClause, list[ColumnElement[Any]]]:
    """``source`` with a LEFT OUTER JOIN per sorted metric/param/tag, and the ORDER BY terms."""
    terms: list[ColumnElement[Any]] = []

    def add(expr: ColumnElement[Any], ascending: bool, nullable: bool = True) -> None:
        if nullable:  # missing values last in both directions, the same on every dialect
            terms.append(sa.case((expr.is_(None), 1), else_=0))
        terms.append(expr.asc() if ascending else expr.desc())

    for i, k in enumerate(keys):
        if k.kind == "attributes":
            add(_ATTRIBUTE_COLUMNS[k.key], k.ascending, k.key not in _NOT_NULL_ATTRIBUTES)
            continue
        alias = _TABLES[k.kind].alias(f"sort{i}")
        source = source.outerjoin(alias, and_(alias.c.run_id == runs.c.id, alias.c.key == k.key))
        if k.kind == "params":  # numbers first, then text, then runs without the param
            terms.append(sa.case((alias.c.run_id.is_(None), 1), else_=0))
            add(alias.c.value_num, k.ascending)
        add(alias.c.value, k.ascending)
    return source, [*terms, runs.c.id.asc()]


def _scope(request: RunSearch) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if (ids := request.experiment_ids) is not None:
        if bad := [e[:100] for e in ids if not _EXPERIMENT_ID_RE.match(e)]:
            why = f"experiment id {bad[0]!r} is invalid: ids are 32 lowercase hex characters"
            raise InvalidInput(why, details={"experiment_id": bad[0]})
        # One id as '=', so that the (experiment_id, lifecycle_stage, created_time) index gives the order.
        where.append(runs.c.experiment_id == ids[0] if len(ids) == 1 else runs.c.experiment_id.in_(ids))
    if request.lifecycle != "all":
        where.append(runs.c.lifecycle_stage == request.lifecycle)
    if request.parent_run_id is not None:
        where.append(runs.c.parent_run_id == request.parent_run_id)
    return where


@dataclass(frozen=True)
class _Page:
    """One page to find: where to look, what to match, in which order, which slice."""

    conn: Connection
    request: RunSearch
    scope: list[ColumnElement[bool]]
    conditions: list[Comparison]
    keys: list[OrderKey]
    offset: int
    limit: int  # the page size plus one, to learn whether there is a next page

    def count(self, source: FromClause, where: list[ColumnElement[bool]]) -> int:
        rows = sa.select(sa.literal(1)).select_from(source).where(*where).limit(_COUNT_CAP).subquery()
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(rows)).scalar_one())

    def fetch(self, source: FromClause, where: list[ColumnElement[bool]], terms: list[Any]) -> list[str]:
        query = sa.select(runs.c.id).select_from(source).where(*self.scope, *where).order_by(*terms)
        return [str(row[0]) for row in self.conn.execute(query.limit(self.limit).offset(self.offset))]


_Index = tuple[FromClause, ColumnElement[Any], list[ColumnElement[bool]], list[ColumnElement[Any]]]


def _ordered_index(page: _Page) -> _Index | None:
    """An index in the first sort key's order: (source joined to runs, column, condition, tie-breakers)."""
    first, ids = page.keys[0], page.request.experiment_ids
    if first.kind != "attributes":
        alias = _TABLES[first.kind].alias("probe")
        column = alias.c.value_num if first.kind == "params" else alias.c.value
        tie = alias.c.value.asc() if first.ascending else alias.c.value.desc()  # '1', '1.0': as text
        ties: list[ColumnElement[Any]] = [tie] if first.kind == "params" else []
        where = [alias.c.key == first.key, column.is_not(None)]
        return alias.join(runs, runs.c.id == alias.c.run_id), column, where, ties
    one_slice = ids is not None and len(ids) == 1 and page.request.lifecycle != "all"
    if first.key == "created_time" and one_slice and page.conditions:
        return runs, runs.c.created_time, [], []
    return None


def _plan(page: _Page, index: _Index | None) -> tuple[int | None, Comparison | None]:
    """The probe's window (None: no probe) and the condition to drive from (None: the runs in scope)."""
    needed = page.offset + page.limit
    counted = [c for c in page.conditions if c.kind != "attributes"]
    if not counted or page.conn.dialect.name != "sqlite":  # PostgreSQL has statistics: it picks the driver
        window = max(_WINDOW_MIN, 20 * needed)
        return (window if index is not None and window <= _COUNT_CAP else None), None
    in_scope = max(1, page.count(runs, page.scope))
    sizes = sorted(
        (page.count(_TABLES[c.kind], _row_condition(c, _TABLES[c.kind])), i) for i, c in enumerate(counted)
    )
    smallest, first = sizes[0]
    driver = counted[first] if smallest < in_scope else None
    selectivity = math.prod(min(1.0, size / in_scope) for size, _ in sizes)  # as if independent
    if index is None or selectivity == 0:
        return None, driver
    window = max(_WINDOW_MIN, int(3 * needed / selectivity))  # room for an estimate 3x too high
    return (window if window < min(smallest, in_scope, _COUNT_CAP) else None), driver


def _probe(page: _Page, index: _Index, window: int) -> list[str] | None:
    """Step 1 above: the page from the index-ordered prefix, or None when the prefix cannot tell."""
    (source, column, where, ties), first = index, page.keys[0]
    order = column.asc() if first.ascending else column.desc()
    bound_query = sa.select(column).where(*(where or page.scope)).order_by(order).offset(window - 1)
    bound = page.conn.execute(bound_query.limit(1)).scalar()
    if bound is not None:
        where = [*where, column <= bound if first.ascending else column >= bound]
    source, terms = _ordering(page.keys[1:], source)
    found = page.fetch(source, [*where, *map(_condition, page.conditions)], [order, *ties, *terms])
    complete = bound is None and first.kind == "attributes"  # the prefix is every run in scope
    return found if len(found) == page.limit or complete else None


def _drive(page: _Page, driver: Comparison | None) -> list[str]:
    """Step 2 above: the page from the smallest candidate set, sorted."""
    source: FromClause = runs
    where: list[ColumnElement[bool]] = []
    if driver is not None:
        alias = _TABLES[driver.kind].alias("driver")
        source, where = alias.join(runs, runs.c.id == alias.c.run_id), _row_condition(driver, alias)
    source, terms = _ordering(page.keys, source)
    where += [_condition(c) for c in page.conditions if c is not driver]
    return page.fetch(source, where, terms)


def search_run_ids(conn: Connection, request: RunSearch) -> tuple[list[str], str | None]:
    """Find one page of runs.

    Args:
        conn: A connection in a read transaction of the workspace database.
        request: Scope (experiments, lifecycle, parent run), filter, order, page size and page token.

    Returns:
        The run ids of this page in order, and the token of the next page (None on the last page).

    Raises:
        InvalidInput: The filter, order_by, an experiment id or the page token is invalid.
    """
    if not 1 <= request.max_results <= MAX_RESULTS_CAP:  # also when the request skipped validation
        raise InvalidInput(f"max_results must be between 1 and {MAX_RESULTS_CAP}")
    query_hash = hashlib.sha256(request.model_dump_json(include=_QUERY_FIELDS).encode()).hexdigest()[:16]
    offset = 0
    if (token := request.page_token) is not None:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("q") != query_hash or type(data.get("o")) is not int:
            why = "page_token does not belong to this search; start again without it"
            raise InvalidInput(why, details={"page_token": token[:100]})
        offset = max(0, data["o"])
    keys = parse_order_by(request.order_by) or [OrderKey("attributes", "created_time", ascending=False)]
    conditions = parse_filter(request.filter)
    page = _Page(conn, request, _scope(request), conditions, keys, offset, request.max_results + 1)
    if request.experiment_ids == []:
        return [], None
    index = _ordered_index(page)
    window, driver = _plan(page, index)
    ids = _probe(page, index, window) if index is not None and window is not None else None
    if ids is None:
        ids = _drive(page, driver)
    if len(ids) <= request.max_results:
        return ids, None
    token = json.dumps({"o": offset + request.max_results, "q": query_hash}, separators=(",", ":"))
    return ids[: request.max_results], base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def count_runs(conn: Connection, request: RunSearch, *, cap: int) -> int:
    """How many runs match the search's scope and filter, counting at most ``cap``.

    Counting stops at the cap, so a broad filter over 100,000 runs costs at most ``cap`` probes.
    """
    if request.experiment_ids == []:
        return 0
    where = [*_scope(request), *(_condition(c) for c in parse_filter(request.filter))]
    matching = sa.select(sa.literal(1)).select_from(runs).where(*where).limit(cap).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(matching)).scalar_one())


MAX_KEYS = 2000  # per kind: a runs table cannot offer more columns than this usefully


def experiment_keys(conn: Connection, experiment_id: str) -> tuple[list[str], list[str], list[str]]:
    """The param, metric and tag keys of an experiment's runs, each sorted (at most ``MAX_KEYS``).

    Each distinct key of the workspace (read off the key index) is kept when one run of the experiment
    has it; on 100,000 runs this takes ~15 ms where a join over every value takes ~150 ms.
    """
    found: list[list[str]] = []
    for table in (params, metric_latest, tags):
        distinct = select(table.c.key).distinct().subquery("k")
        used = (
            select(literal(1))
            .select_from(table.join(runs, runs.c.id == table.c.run_id))
            .where(table.c.key == distinct.c.key, runs.c.experiment_id == experiment_id)
            .exists()
        )
        query = select(distinct.c.key).where(used).order_by(distinct.c.key).limit(MAX_KEYS)
        found.append([str(row[0]) for row in conn.execute(query)])
    return found[0], found[1], found[2]
