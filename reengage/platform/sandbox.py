"""The sandbox templates render in, with a budget: bounded steps, bounded values, bounded time.

Jinja's sandbox keeps a template from reaching outside, not from working long or making huge
values, and a thread cannot be stopped from outside. So every step a template takes (a loop turn,
a call, a filter, a lookup, an operator) goes through a hook here that counts it against the
render's budget and its clock, and every operation whose result can be far larger than its inputs
(`'x' * n`, `n ** m`, format widths, `lipsum(n)`, `join`, `replace`, `center`...) is refused before
it runs when that result would pass the size limit. No single step is long, so the count and the
clock checked between steps bound the whole render.
"""

import re
import string
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from copy import copy
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

from reengage.platform import busy

# A render may take this many steps (loop turns, calls, filters, lookups, operators)...
MAX_STEPS = 10_000
# ...and this long: a backstop for slow steps, the count usually ends a heavy template first.
MAX_SECONDS = 0.5
# A render gives way to requests in progress every this many steps (a message's template takes far fewer).
PAUSE_STEPS = 500
# A macro call is many steps of Jinja's own (arguments, caller, output buffer): it counts as this many.
MACRO_STEPS = 10
# No string, sequence or output a template makes may weigh more than this (characters, roughly).
MAX_SIZE = 100_000
# Nor may an integer have more bits (about 3,000 digits: Python will not print one of over 4,300).
MAX_BITS = 10_000
# printf widths and precisions: `%-20s`, `%(name)08.2f`, `%*d`.
PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
NUMBERS = re.compile(r"\d+")
# Where an app keeps what may hold back renders and counts the refused ones (reengage.web.render_limit): an
# object with before() (raises to hold a render back) and refused().
GUARD = "reengage.render_guard"


class OverBudget(Exception):
    """A template that would take more steps, time or memory than one message may."""


@dataclass
class Budget:
    """What is left of one render's steps, and when its time is up."""

    steps: int
    deadline: float
    # Steps left when the render last gave way to requests in progress, and when.
    paused_at_steps: int = MAX_STEPS
    paused_at: float = 0.0

    def charge(self, steps: int = 1) -> None:
        """Count `steps` more; OverBudget once the steps or the time are spent."""
        self.steps -= steps
        if self.steps < 0:
            raise OverBudget(f"over the render budget: more than {MAX_STEPS:,} steps (loop turns, calls, lookups)")
        now = time.monotonic()
        if now > self.deadline:
            raise OverBudget(f"over the render budget: longer than {MAX_SECONDS:g} s")
        if self.paused_at_steps - self.steps >= PAUSE_STEPS:
            # A long render (a template bomb, until refused) lets other threads' requests go first for as
            # long as it has just run; the time it waits is not its own, so its deadline moves with it.
            self.deadline += busy.give_way(now - self.paused_at)
            self.paused_at_steps, self.paused_at = self.steps, time.monotonic()


_budget: ContextVar[Budget] = ContextVar("render_budget")


_unguarded: ContextVar[bool] = ContextVar("render_unguarded", default=False)


@contextmanager
def unguarded() -> Iterator[None]:
    """Renders inside the block are neither held back nor counted by the app's guard (messages being sent)."""
    token = _unguarded.set(True)
    try:
        yield
    finally:
        _unguarded.reset(token)


@contextmanager
def budgeted() -> Iterator[Budget]:
    """A fresh budget for the templates rendered inside the block; the app's guard, if any, may hold it back
    first and is told when the budget is passed (not inside `unguarded`)."""
    guard = current_app.extensions.get(GUARD) if has_app_context() and not _unguarded.get() else None
    if guard is not None:
        guard.before()
    now = time.monotonic()
    token = _budget.set(Budget(MAX_STEPS, now + MAX_SECONDS, MAX_STEPS, now))
    busy.heavy()  # requests in progress need not wait for a render: it gives way to them (see charge)
    try:
        yield _budget.get()
    except OverBudget:
        if guard is not None:
            guard.refused()
        raise
    finally:
        _budget.reset(token)


def charge(steps: int = 1) -> None:
    """Count `steps` against the current render's budget."""
    _budget.get().charge(steps)


def weight(value: Any) -> int:
    """About how many characters `value` takes as text (nested sequences counted whole, stopping past the limit)."""
    total, stack = 0, [value]
    while stack and total <= MAX_SIZE:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 1
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, dict):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            stack.extend(item)
        else:
            total += 1
    return total


def refuse_over(size: int, what: str) -> None:
    """OverBudget when `what` would weigh more than the limit."""
    if size > MAX_SIZE:
        raise OverBudget(f"over the render budget: {what} would be longer than {MAX_SIZE:,} characters")


def checked(value: Any) -> Any:
    """`value` when it is within the limits; OverBudget otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_BITS:
        raise OverBudget(f"over the render budget: a number longer than {MAX_BITS:,} bits")
    size = weight(value)
    charge(size // 1000)
    refuse_over(size, "a value")
    return value


def counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """`iterable`, each turn of a loop over it counted."""
    budget = _budget.get()
    for item in iterable:
        budget.charge()
        yield item


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def product_fits(left: Any, right: Any) -> None:
    """Refuse `left * right` when the product would be too large."""
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_BITS:
            raise OverBudget(f"over the render budget: a number longer than {MAX_BITS:,} bits")
        return
    for sequence, times in ((left, right), (right, left)):
        if isinstance(times, int) and not isinstance(sequence, (int, float)):
            refuse_over(weight(sequence) * max(_count(times), 0), "a repeated value")


def power_fits(base: Any, exponent: Any) -> None:
    """Refuse `base ** exponent` when the power would be too large (computing it alone could take minutes)."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if base.bit_length() * exponent > MAX_BITS:
            raise OverBudget(f"over the render budget: a number longer than {MAX_BITS:,} bits")


def printf_fits(text: str, values: Any) -> None:
    """Refuse `text % values` when widths, precisions and values would make it too long."""
    specs = PRINTF.findall(text)
    if any("*" in spec for spec in specs):
        raise OverBudget("over the render budget: a width taken from the values ('%*d') is not allowed")
    widths = sum(max(int(width or 0), int(precision or 0)) for width, precision in specs)
    # Each spec takes one value of a tuple, but `%(name)s` can write the same value again and again.
    written = len(specs) * weight(values) if isinstance(values, dict) else weight(values)
    refuse_over(len(text) + widths + written, "a formatted text")


def format_fits(text: str, args: tuple, kwargs: dict) -> None:
    """Refuse `text.format(...)` when widths, precisions and values would make it too long."""
    fields = [spec for _, name, spec, _ in string.Formatter().parse(text) if name is not None]
    if any("{" in (spec or "") for spec in fields):
        raise OverBudget("over the render budget: a width taken from the values ('{:{w}}') is not allowed")
    widths = sum(max((int(n) for n in NUMBERS.findall(spec or "")), default=0) for spec in fields)
    refuse_over(len(text) + widths + len(fields) * weight((args, kwargs)), "a formatted text")


def format_of(function: Any) -> str | None:
    """The text of a `str.format` or `str.format_map` (which the sandbox wraps as they are looked up), else None."""
    method = getattr(function, "__wrapped__", function)
    text = getattr(method, "__self__", None)
    if isinstance(text, str) and getattr(method, "__name__", "") in ("format", "format_map"):
        return text
    return None


def method_fits(method: Any, args: tuple, kwargs: dict) -> None:
    """Refuse a call of a str method whose result would be far larger than the string."""
    text, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if not isinstance(text, str):
        return
    if name in ("center", "ljust", "rjust", "zfill") and args:
        refuse_over(_count(args[0]), "a padded text")
    elif name == "expandtabs":
        refuse_over(len(text) + text.count("\t") * _count(args[0] if args else kwargs.get("tabsize", 8)),
                    "a text with tabs expanded")
    elif name == "replace" and len(args) >= 2:
        refuse_over(len(text) + (text.count(args[0]) if args[0] else len(text) + 1) * weight(args[1]),
                    "a replaced text")
    elif name == "join" and args:
        refuse_over(weight(args[0]) + len(text) * len(args[0]), "a joined text")
    elif name == "translate":
        refuse_over(len(text) * max((weight(v) for v in getattr(args[0], "values", list)()), default=1),
                    "a translated text")


def bounded_list(iterable: Any) -> list:
    """`iterable` as a list, each item counted, refused past the size limit."""
    if isinstance(iterable, (list, tuple)):
        return list(iterable)
    items = []
    for item in counted(iterable):
        items.append(item)
        refuse_over(len(items), "a sequence")
    return items


def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # Jinja's names
    """Jinja's `lipsum`, refused when it would write more words than the size limit allows."""
    refuse_over(_count(n) * _count(max) * 8, "the lorem ipsum")
    return generate_lorem_ipsum(n, html, min, max)


def concat(parts: Iterable[Any]) -> str:
    """Output pieces joined, refused past the size limit (every rendered text and captured block goes here)."""
    pieces, total = [], 0
    for part in parts:
        text = str(part)
        total += len(text)
        refuse_over(total, "the rendered text")
        pieces.append(text)
    return "".join(pieces)


def joined(parts: tuple) -> str:
    """The `~` operator: its operands as text, refused past the size limit."""
    charge()
    total = 0
    for part in parts:
        total += weight(part)
        refuse_over(total, "a joined text")
    return concat(parts)


def finalize(value: Any) -> Any:
    """What `{{ ... }}` writes, refused before it is turned into text when that text would be too long."""
    charge()
    refuse_over(weight(value), "a written value")
    return value


# Filters that must see their input whole to size their result (a generator would be used up by the check).
MATERIALISED = ("join",)
# Filters whose result can be far larger than their input: each checks its arguments before it runs.
FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": lambda value, width=80: refuse_over(weight(value) + _count(width), "a centred text"),
    "indent": lambda value, width=4, *_a, **_k: refuse_over(
        weight(value) + (str(value).count("\n") + 1) * (len(width) if isinstance(width, str) else _count(width)),
        "an indented text"),
    "replace": lambda value, old, new, count=None: method_fits(str(value).replace, (old, new), {}),
    "join": lambda value, d="", attribute=None: refuse_over(weight(value) + len(value) * weight(d), "a joined text"),
    "format": lambda value, *args, **kwargs: printf_fits(str(value), kwargs or args),
    "batch": lambda value, linecount, fill_with=None: refuse_over(_count(linecount), "a batch"),
    "slice": lambda value, slices, fill_with=None: refuse_over(_count(slices), "a slice count"),
    "wordwrap": lambda value, width=79, *_a, **_k: refuse_over(weight(value) * 2, "a wrapped text"),
}


def budgeted_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` as a filter that counts against the budget, checks its arguments first and its result after."""
    check = FILTER_CHECKS.get(name)
    passes = getattr(function, "jinja_pass_arg", None)

    def run(*args: Any, **kwargs: Any) -> Any:
        charge()
        if name in MATERIALISED:
            first = 1 if passes else 0
            args = (*args[:first], bounded_list(args[first]), *args[first + 1:])
        if check is not None:
            check(*(args[1:] if passes else args), **kwargs)
        return checked(function(*args, **kwargs))

    if passes is not None:
        run.jinja_pass_arg = passes  # type: ignore[attr-defined]
    return run


class CountingCodeGenerator(CodeGenerator):
    """Jinja's code generator, with each loop's turns counted and `~` bounded."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node = copy(node)
        node.iter = nodes.Call(nodes.EnvironmentAttribute("counted"), [node.iter], [], None, None,
                               lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


class BudgetedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, where every call, lookup and operator counts and huge results are refused."""

    code_generator_class = CountingCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})
    counted = staticmethod(counted)
    joined = staticmethod(joined)
    concat = staticmethod(concat)

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=finalize, **options)
        self.globals["lipsum"] = lipsum
        self.filters = {name: budgeted_filter(name, function) for name, function in self.filters.items()}

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Count the call, refuse one whose result would be too large, and check what it answers."""
        charge(MACRO_STEPS if isinstance(__obj, Macro) else 1)
        if (text := format_of(__obj)) is not None:
            format_fits(text, *((args, kwargs) if __obj.__name__ == "format" else ((), args[0] if args else {})))
        else:
            if isinstance(getattr(__obj, "__self__", None), str) and getattr(__obj, "__name__", "") == "join" and args:
                args = (bounded_list(args[0]),)  # sized before it is joined, and not used up by the sizing
            method_fits(__obj, args, kwargs)
        if isinstance(__obj, LoopContext) and args:
            args = (counted(args[0]), *args[1:])  # a recursive loop's inner turns count too
        return checked(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Count the operator, and refuse `*`, `**`, `%` and `+` whose result would be too large."""
        charge()
        if operator == "*":
            product_fits(left, right)
        elif operator == "**":
            power_fits(left, right)
        elif operator == "%" and isinstance(left, str):
            printf_fits(left, right)
        elif operator == "+" and not isinstance(left, (int, float)):
            refuse_over(weight(left) + weight(right), "a sum")
        return checked(super().call_binop(context, operator, left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Count the lookup."""
        charge()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Count the lookup."""
        charge()
        return super().getitem(obj, argument)
