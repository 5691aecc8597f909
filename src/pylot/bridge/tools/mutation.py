"""Deliberately broken copies of a Python function: a test that does not notice them tests nothing."""

from __future__ import annotations

import ast
import copy
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from pylot.errors import ToolError

_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv,
}


@dataclass(frozen=True)
class Mutant:
    """A module source in which one function has one deliberate bug."""

    description: str
    source: str


def find_function(tree: ast.Module, qualified: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The function or method `name` / `Class.name` at any depth of classes."""
    parts = qualified.split(".")
    scope: list[ast.stmt] = tree.body
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        for node in scope:
            if last and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == part:
                return node
            if not last and isinstance(node, ast.ClassDef) and node.name == part:
                scope = node.body
                break
        else:
            break
    raise ToolError(f"no function {qualified} in the module")


def _own_nodes(function: ast.AST) -> list[ast.AST]:
    """Nodes of the function's body, in source order, without those of nested functions and classes."""
    out: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            out.append(child)
            visit(child)

    visit(function)
    return out


def _returns_none(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    returns = [n for n in _own_nodes(fn) if isinstance(n, ast.Return) and n.value is not None]
    if not returns or all(isinstance(r.value, ast.Constant) and r.value.value is None for r in returns):
        return None
    for r in returns:
        r.value = ast.Constant(value=None)
    return "every return gives None"


def _flip_comparison(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for node in _own_nodes(fn):
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                flipped = _FLIP.get(type(op))
                if flipped is not None:
                    node.ops[i] = flipped()
                    return f"comparison on line {node.lineno} flipped ({type(op).__name__} -> {flipped.__name__})"
    return None


def _swap_arithmetic(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for node in _own_nodes(fn):
        if isinstance(node, (ast.BinOp, ast.AugAssign)):
            swapped = _SWAP.get(type(node.op))
            if swapped is not None:
                before = type(node.op).__name__
                node.op = swapped()
                return f"arithmetic on line {node.lineno} changed ({before} -> {swapped.__name__})"
    return None


def _negate_condition(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for node in _own_nodes(fn):
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
            return f"condition on line {node.lineno} negated"
    return None


MUTATIONS: tuple[Callable[[ast.FunctionDef | ast.AsyncFunctionDef], str | None], ...] = (
    _returns_none,
    _flip_comparison,
    _swap_arithmetic,
    _negate_condition,
)


def mutants(source: str, qualified: str, limit: int = 3) -> list[Mutant]:
    """Up to `limit` mutants of the function `qualified` in the module source, each with one bug."""
    tree = ast.parse(source)
    original = find_function(tree, qualified)
    lines = source.splitlines(keepends=True)
    start, end = original.lineno, original.end_lineno or original.lineno
    indent = " " * original.col_offset
    out: list[Mutant] = []
    for mutate in MUTATIONS:
        fn = copy.deepcopy(original)
        fn.decorator_list = []  # the decorators stay as they are in the lines above `def`
        description = mutate(fn)
        if description is None:
            continue
        body = textwrap.indent(ast.unparse(ast.fix_missing_locations(fn)), indent) + "\n"
        out.append(Mutant(description, "".join(lines[: start - 1]) + body + "".join(lines[end:])))
        if len(out) == limit:
            break
    return out
