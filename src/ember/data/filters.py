"""Filter expressions of tabular datasets: a small, safe subset of Python compiled to pyarrow expressions.

An expression is parsed with :mod:`ast` and only a whitelist of nodes is accepted: comparisons
(``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in`` / ``not in`` a list of literals, ``is None`` /
``is not None``), ``and`` / ``or`` / ``not``, column names (``price``, or ``col("unit price")`` for a
name that is not a Python identifier) and literals (numbers, strings, ``True`` / ``False``). Nothing is
ever evaluated by Python, so an expression cannot reach attributes, call functions or import modules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ember.errors import InvalidInput

__all__ = ["parse_filter", "referenced_columns"]

_MAX_DEPTH = 100
_MAX_LIST = 10_000

_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


@dataclass
class _Compiler:
    text: str
    schema: pa.Schema | None
    columns: list[str] = field(default_factory=list)

    def fail(self, node: ast.AST, why: str) -> InvalidInput:
        part = ast.get_source_segment(self.text, node) or ast.dump(node)[:80]
        return InvalidInput(f"filter {self.text!r}: {why} (at {part!r})")

    def compile(self, node: ast.AST, depth: int = 0) -> pc.Expression:
        if depth > _MAX_DEPTH:
            raise self.fail(node, f"the expression is nested deeper than {_MAX_DEPTH} levels")
        if isinstance(node, ast.BoolOp):
            parts = [self.compile(v, depth + 1) for v in node.values]
            out = parts[0]
            for part in parts[1:]:
                out = (out & part) if isinstance(node.op, ast.And) else (out | part)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self.compile(node.operand, depth + 1)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        if isinstance(node, ast.Name | ast.Call):
            return pc.field(self.column(node))
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return pc.scalar(node.value)
        raise self.fail(node, self.unsupported(node))

    def unsupported(self, node: ast.AST) -> str:
        if isinstance(node, ast.Attribute):
            return "attribute access is not allowed; name a column, or use col('a.b') for a dotted name"
        if isinstance(node, ast.BinOp):
            return "arithmetic is not supported; compare columns with literals"
        if isinstance(node, ast.Constant):
            return "a literal alone is not a condition; compare a column with it"
        return (
            f"{type(node).__name__} is not allowed; use comparisons, and/or/not, "
            "'in [..]', 'is None', column names and literals"
        )

    def column(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            name = node.id
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "col"
            and len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            name = node.args[0].value
        elif isinstance(node, ast.Call):
            raise self.fail(node, "the only call allowed is col('column name') with one string")
        else:
            raise self.fail(node, self.unsupported(node))
        if self.schema is not None and self.schema.get_field_index(name) < 0:
            raise InvalidInput(
                f"filter {self.text!r} names column {name!r}, which does not exist; "
                f"columns: {', '.join(self.schema.names)}"
            )
        if name not in self.columns:
            self.columns.append(name)
        return name

    def is_column(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "col"
        )

    def is_literal(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant)
        )

    def literal(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and (
            node.value is None or isinstance(node.value, bool | int | float | str)
        ):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            value = node.operand.value
            return -value if isinstance(node.op, ast.USub) else value
        raise self.fail(node, "expected a literal: a number, a string, True or False")

    def operand(self, node: ast.AST, other: ast.AST) -> pc.Expression:
        """A side of a comparison: a column or a literal, typed like the column on the other side."""
        if self.is_column(node):
            return pc.field(self.column(node))
        value = self.literal(node)
        if value is None:
            raise self.fail(node, "compare with None using 'is None' or 'is not None'")
        return pc.scalar(self.coerce(value, other, node))

    def coerce(self, value: Any, other: ast.AST, node: ast.AST) -> Any:
        """A string literal compared with a date or datetime column becomes a date or datetime."""
        if self.schema is None or not isinstance(value, str) or not self.is_column(other):
            return value
        target = self.schema.field(self.column(other)).type
        if not (pa.types.is_timestamp(target) or pa.types.is_date(target)):
            return value
        try:
            return pa.scalar(value).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise self.fail(node, f"{value!r} is not a {target} value ({exc})") from None

    def compare(self, node: ast.Compare, depth: int) -> pc.Expression:
        out: pc.Expression | None = None
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            part = self.compare_one(left, op, right, depth)
            out = part if out is None else (out & part)
            left = right
        assert out is not None  # a Compare has at least one operator
        return out

    def compare_one(self, left: ast.AST, op: ast.cmpop, right: ast.AST, depth: int) -> pc.Expression:
        if isinstance(op, ast.Is | ast.IsNot):
            if not (isinstance(right, ast.Constant) and right.value is None):
                raise self.fail(right, "'is' and 'is not' compare only with None")
            subject = self.compile(left, depth + 1)
            return subject.is_null() if isinstance(op, ast.Is) else subject.is_valid()
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, ast.List | ast.Tuple | ast.Set):
                raise self.fail(right, "'in' needs a list of literals, like x in [1, 2, 3]")
            if len(right.elts) > _MAX_LIST:
                raise self.fail(right, f"'in' takes at most {_MAX_LIST} values")
            values = [self.coerce(self.literal(e), left, e) for e in right.elts]
            member = self.compile(left, depth + 1).isin(values)
            return member if isinstance(op, ast.In) else ~member
        symbol = _COMPARE.get(type(op))
        if symbol is None:  # pragma: no cover - every other cmpop is handled above
            raise self.fail(right, f"{type(op).__name__} is not allowed")
        for side in (left, right):
            if not self.is_column(side) and not self.is_literal(side):
                raise self.fail(side, self.unsupported(side))
        if not (self.is_column(left) or self.is_column(right)):
            raise self.fail(left, "a comparison needs a column on one side")
        a, b = self.operand(left, right), self.operand(right, left)
        result: pc.Expression
        if symbol == "==":
            result = a == b
        elif symbol == "!=":
            result = a != b
        elif symbol == "<":
            result = a < b
        elif symbol == "<=":
            result = a <= b
        elif symbol == ">":
            result = a > b
        else:
            result = a >= b
        return result


def _compile(expression: str, schema: pa.Schema | None) -> tuple[pc.Expression, list[str]]:
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidInput("a filter needs an expression, like: price > 10 and country == 'FR'")
    if len(expression) > 10_000:
        raise InvalidInput("a filter expression may be at most 10000 characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        why = getattr(exc, "msg", None) or type(exc).__name__
        raise InvalidInput(f"filter {expression!r} is not a valid expression: {why}") from None
    compiler = _Compiler(expression.strip(), schema)
    try:
        result = compiler.compile(tree.body)
    except RecursionError:
        raise InvalidInput(f"filter {expression!r} is nested too deeply") from None
    return result, compiler.columns


def parse_filter(expression: str, schema: pa.Schema | None = None) -> pc.Expression:
    """Compile a filter expression to a pyarrow expression; raises ``InvalidInput`` on anything unsafe.

    Args:
        expression: Text like ``price > 10 and country in ['FR', 'DE']`` or ``col("unit price") <= 3``.
        schema: The table it will filter, if known: an unknown column is then reported with the columns
            that exist, and string literals compared with a date or datetime column become dates.
    """
    return _compile(expression, schema)[0]


def referenced_columns(expression: str) -> list[str]:
    """The column names an expression uses, in order of first appearance."""
    return _compile(expression, None)[1]
