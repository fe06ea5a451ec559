"""Personalised content: step templates rendered in Jinja2's sandbox, where a missing field is a fallback.

A flow's templates are checked when the flow is saved (they compile, and render both with a
full sample and with nothing known), so a template that would break is refused then, not
when a message goes. Every render has a budget (reengage.platform.sandbox): a template that
loops, grows or computes past it is refused, at save time as at send time. Bodies are plain
text; the HTML of an email is built from that text with everything escaped, so nothing a
contact typed can inject markup.
"""

from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError
from markupsafe import escape

from reengage.platform.errors import ApiError
from reengage.platform.sandbox import BudgetedEnvironment, OverBudget, budgeted, budgeted_filter

# Rendered text longer than this is cut: a template loop cannot make a message of megabytes.
MAX_LENGTH = 20_000
# An amount with more digits before the point than this is no amount.
MONEY_DIGITS = 30
CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥", "INR": "₹"}


class Unrenderable(Exception):
    """A template that could not be rendered: over its budget, or an error it raised; `field` names it."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class Fallback(ChainableUndefined):
    """A missing field: empty text, falsy, and still missing at any depth (`contact.properties.x.y`)."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""


def money(value: Any, currency: Any = None) -> str:
    """`value` as an amount: `$249.00`, `1,200.00 CHF`; empty when it is no number."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if not amount.is_finite() or amount.adjusted() > MONEY_DIGITS:
        return ""  # `1e999999999` would be written out in full: a gigabyte, not an amount
    code = str(currency or "").upper()
    if code in CURRENCY_SIGNS:
        return f"{CURRENCY_SIGNS[code]}{amount:,.2f}"
    return f"{amount:,.2f} {code}".strip()


@cache
def environment() -> BudgetedEnvironment:
    """The one sandbox every template renders in."""
    env = BudgetedEnvironment(undefined=Fallback, autoescape=False, keep_trailing_newline=False)
    env.filters["money"] = budgeted_filter("money", money)
    return env


@lru_cache(maxsize=4096)
def compiled(source: str) -> Template:
    """`source` compiled once: compiling costs far more than rendering."""
    return environment().from_string(source)


def render(source: str | None, context: dict[str, Any], field: str = "template") -> str:
    """`source` rendered for `context`; Unrenderable naming `field` when it breaks or passes its budget."""
    if not source:
        return ""
    try:
        text = _rendered(compiled(source), context)
    except ApiError:
        raise  # the render was held back (an account over its refusals): the caller is answered that
    except Exception as error:  # the sandbox raises SecurityError, TypeError, ZeroDivisionError, OverBudget...
        raise Unrenderable(field, _reason(error)) from error
    return text[:MAX_LENGTH].strip()


def problem(source: str, contexts: list[dict[str, Any]]) -> str | None:
    """Why `source` cannot be used (it does not compile, or fails to render for one of `contexts`), else None."""
    try:
        template = compiled(source)
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        return f"Template error: {error.message}" + (f" (line {line})" if line else "")
    except (ValueError, OverflowError, RecursionError) as error:  # e.g. an integer literal of over 4,300 digits
        return f"Template error: {error}"
    for context in contexts:
        try:
            _rendered(template, context)
        except ApiError:
            raise
        except Exception as error:
            return _reason(error)
    return None


def _rendered(template: Template, context: dict[str, Any]) -> str:
    with budgeted():
        return template.render(context)


def _reason(error: Exception) -> str:
    if isinstance(error, OverBudget):
        return f"Refused: {error}."
    return f"Fails to render: {error}"


def html(text: str, cta_label: str, cta_url: str, footer: str) -> str:
    """A simple, readable HTML email from plain `text`: paragraphs, one button, a footer."""
    paragraphs = "".join(f'<p style="margin:0 0 16px">{escape(p).replace(chr(10), "<br>")}</p>'
                         for p in text.split("\n\n") if p.strip())
    button = ""
    if cta_url:
        button = (f'<p style="margin:24px 0"><a href="{escape(cta_url)}" style="background:#1f6feb;color:#fff;'
                  f'padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">'
                  f"{escape(cta_label or cta_url)}</a></p>")
    return (f'<div style="font-family:Arial,sans-serif;font-size:15px;line-height:1.5;color:#222;max-width:560px">'
            f'{paragraphs}{button}<p style="margin:32px 0 0;font-size:12px;color:#595959">{footer}</p></div>')
