"""Query parameters of the JSON endpoints, checked one by one.

Each endpoint names the parameters it takes; :class:`Params` reads them from a request's
query string and turns each into its value or a :class:`WebError` that names the
parameter, says what is wrong and what is accepted. Nothing else of the service turns
text into numbers, so every endpoint answers a bad value the same way: status 400 (404
for a name that is well formed but not there) and a JSON body ``{"error": ...,
"parameter": ...}``, never a traceback.

Examples
--------
>>> params = Params({"offset": "20", "limit": "10"}, ("gene", "offset", "limit"))
>>> params.whole("offset", 0, low=0), params.whole("limit", 10, low=1, high=MAX_LIMIT)
(20, 10)
>>> Params({"max_fdr": "2"}, ("max_fdr",)).fraction("max_fdr")
Traceback (most recent call last):
...
linkscan.jobs.web.params.WebError: max_fdr = '2': give a number with 0 < max_fdr <= 1 (the largest Benjamini-Hochberg q kept, e.g. 0.05)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from linkscan.errors import LinkscanError

#: The most rows one answer holds (``limit``); a page of the gene page holds 10.
MAX_LIMIT = 1000
#: The longest text a parameter may hold: far above any gene, feature or phenotype id,
#: and small enough that a name is never a burden to match or to echo in an error.
MAX_TEXT = 200


class WebError(LinkscanError):
    """A request the service cannot answer: an HTTP ``status`` and the ``parameter`` at
    fault (None when the fault is not one parameter's)."""

    def __init__(self, message: str, parameter: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.status = status

    def body(self) -> dict:
        """The JSON body of the error answer."""
        return {"error": str(self), "parameter": self.parameter}


class Params:
    """The query parameters of one request to an endpoint taking ``allowed``.

    Parameters
    ----------
    query
        The query string's names and values: a mapping, or a Starlette ``QueryParams``
        (whose ``multi_items`` shows a name given twice).
    allowed
        The names the endpoint takes. Any other name is an error, so that a misspelt
        filter (``maxfdr=0.05``) is never silently ignored.

    Raises
    ------
    WebError
        A name the endpoint does not take, or one given twice.
    """

    def __init__(self, query: Mapping[str, str], allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        items = query.multi_items() if hasattr(query, "multi_items") else list(query.items())
        self._values: dict[str, str] = {}
        for name, value in items:
            if name not in allowed:
                raise WebError(f"unknown parameter {short(name)!r}: this endpoint takes "
                               f"{', '.join(allowed) or 'no parameters'}", short(name))
            if name in self._values:
                raise WebError(f"{name} is given twice; give it once", name)
            self._values[name] = value

    def text(self, name: str, default: str | None = None, *, empty: bool = False) -> str | None:
        """The text of ``name`` (surrounding spaces removed), ``default`` when it is absent.

        Raises
        ------
        WebError
            An empty value (unless ``empty``), or one longer than :data:`MAX_TEXT`
            characters.
        """
        value = self._values.get(name)
        if value is None:
            return default
        value = value.strip()
        if not value and not empty:
            raise WebError(f"{name} is empty; give a value or leave the parameter out", name)
        if len(value) > MAX_TEXT:
            raise WebError(f"{name} is {len(value)} characters long; at most {MAX_TEXT} are accepted", name)
        return value

    def required(self, name: str) -> str:
        """The text of ``name``, which must be given (see :meth:`text`)."""
        value = self.text(name)
        if value is None:
            raise WebError(f"{name} is missing; this endpoint needs it", name)
        return value

    def whole(self, name: str, default: int, *, low: int, high: int | None = None) -> int:
        """``name`` as a whole number in ``[low, high]``, ``default`` when absent."""
        text = self.text(name)
        if text is None:
            return default
        bound = f"{low} <= {name}" + (f" <= {high}" if high is not None else "")
        try:
            value = int(text)
        except ValueError:
            raise WebError(f"{name} = {short(text)!r}: give a whole number, {bound}", name) from None
        if value < low or (high is not None and value > high):
            raise WebError(f"{name} = {value}: give a whole number, {bound}", name)
        return value

    def slogp(self, name: str) -> float | None:
        """``name`` as a -log10 p threshold: a finite number >= 0; None when absent."""
        value = self._number(name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise WebError(f"{name} = {short(self._values[name])!r}: give a finite number >= 0 (the least "
                           "|slogp| = -log10 p kept; 6 keeps p < 1e-6)", name)
        return value

    def fraction(self, name: str) -> float | None:
        """``name`` as a false discovery rate, 0 < q <= 1; None when absent."""
        value = self._number(name)
        if value is not None and not 0 < value <= 1:  # NaN fails this too
            raise WebError(f"{name} = {short(self._values[name])!r}: give a number with 0 < {name} <= 1 (the "
                           "largest Benjamini-Hochberg q kept, e.g. 0.05)", name)
        return value

    def choice(self, name: str, choices: Iterable[str], default: str, status: int = 400) -> str:
        """``name`` as one of ``choices`` (any case; returned as ``choices`` spell it),
        ``default`` when absent; a value not among them is an error of ``status``."""
        text = self.text(name)
        if text is None:
            return default
        choices = list(choices)
        match = {c.lower(): c for c in choices}.get(text.lower())
        if match is None:
            raise WebError(f"{name} = {short(text)!r}: use one of {', '.join(choices) or 'none (nothing to choose)'}",
                           name, status)
        return match

    def _number(self, name: str) -> float | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            return float(text)
        except ValueError:
            raise WebError(f"{name} = {short(text)!r} is not a number", name) from None


def short(text: str) -> str:
    """``text`` cut to a length that an error message can echo."""
    return text if len(text) <= 60 else text[:57] + "..."
