"""``@record``: :func:`dataclasses.dataclass` at a fraction of its cost when the class is made.

On Python 3.11 ``dataclass`` writes the source of each generated method (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, a frozen class's ``__setattr__`` and ``__delattr__``) and
compiles it with ``exec``; for the thirty classes a ``pql lint`` imports, compiling was a tenth
of its start-up (issue 9). :func:`record` lets ``dataclass`` do everything but the methods
(fields, defaults, ``__slots__``, ``__match_args__``; :func:`dataclasses.fields`,
:func:`~dataclasses.replace` and :func:`~dataclasses.asdict` work as before), compiles only
``__init__`` (its signature names the fields), and gives the other methods as functions shared
by every record, reading the class's field names. Same semantics as ``dataclass``'s:

* ``__init__``: the dataclass signature (defaults, ``default_factory``, ``kw_only``), fields set
  with ``object.__setattr__`` when frozen, ``__post_init__`` called when defined;
* ``__repr__``: ``Name(field=value, ...)`` over the ``repr=True`` fields, recursion-safe;
* ``__eq__``: same class and equal ``compare=True`` fields;
* ``__hash__``: over the compared fields when frozen, None (unhashable) when not frozen, the
  inherited one with ``eq=False``;
* frozen: assigning or deleting a field raises :class:`dataclasses.FrozenInstanceError`, and a
  frozen slotted class pickles field by field.

Methods a class body defines are kept, as ``dataclass`` keeps them. A class without a docstring
goes to ``dataclass`` itself (whose generated docstring reads the signature). Supported options
are the ones this project uses: ``frozen``, ``eq`` and ``slots``. ``tests/test_records.py``
compares every observable behaviour with ``dataclass``'s.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["record"]

_T = TypeVar("_T", bound=type)

_SET = object.__setattr__


@overload
def record(cls: _T, /) -> _T: ...


@overload
def record(*, frozen: bool = False, eq: bool = True, slots: bool = False) -> Callable[[_T], _T]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: Any = None, /, *, frozen: bool = False, eq: bool = True,
           slots: bool = False) -> Any:
    """``@dataclass(frozen=..., eq=..., slots=...)``, made at a fraction of the cost."""
    def wrap(cls: _T) -> _T:
        return _record(cls, frozen=frozen, eq=eq, slots=slots)
    return wrap if cls is None else wrap(cls)


def _record(cls: _T, *, frozen: bool, eq: bool, slots: bool) -> _T:
    if cls.__doc__ is None:
        made: Any = dataclasses.dataclass(cls, frozen=frozen, eq=eq, slots=slots)
        return made  # type: ignore[no-any-return]
    body = cls.__dict__
    # what dataclass decides from the class body, before it changes it
    explicit_hash = "__hash__" in body and not (body["__hash__"] is None and "__eq__" in body)
    for name in ("__setattr__", "__delattr__"):
        if frozen and name in body:
            raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    new: Any = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=slots)
    params = new.__dataclass_params__
    params.init, params.repr, params.eq, params.frozen = True, True, eq, frozen
    kinds = {f._field_type for f in new.__dataclass_fields__.values()}
    if dataclasses._FIELD_INITVAR in kinds:  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__}: @record does not support InitVar fields")
    fields = [f for f in new.__dataclass_fields__.values()
              if f._field_type is dataclasses._FIELD]  # type: ignore[attr-defined]
    if "__init__" not in body:
        scope: dict[str, Any] = {"_set": _SET, "_FACTORY": _HAS_FACTORY}
        exec(_init_source(fields, frozen, hasattr(new, "__post_init__"), scope), scope)  # noqa: S102 - field names only, from our class bodies
        _method(new, "__init__", scope["__init__"])
        new.__init__.__annotations__ = {f.name: f.type for f in fields if f.init} | {
            "return": None}
    if "__repr__" not in body:
        _method(new, "__repr__", reprlib.recursive_repr()(_repr_of(
            tuple(f.name for f in fields if f.repr))))
    compared = _getter(tuple(f.name for f in fields if f.compare))
    if eq and "__eq__" not in body:
        _method(new, "__eq__", _eq_of(compared))
    if eq and not explicit_hash:
        if frozen:
            hashed = _getter(tuple(f.name for f in fields
                                   if (f.compare if f.hash is None else f.hash)))
            def __hash__(self: Any) -> int:
                return hash(hashed(self))
            _method(new, "__hash__", __hash__)
        else:
            new.__hash__ = None
    if frozen:
        _frozen(new, frozenset(f.name for f in fields))
        if slots:  # what dataclass adds so that frozen slotted instances pickle
            if "__getstate__" not in body:
                new.__getstate__ = _getstate
            if "__setstate__" not in body:
                new.__setstate__ = _setstate
    return new  # type: ignore[no-any-return]


def _method(cls: Any, name: str, fn: Any) -> None:
    fn.__qualname__ = f"{cls.__qualname__}.{name}"
    setattr(cls, name, fn)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of the named fields (what dataclass's methods compare and hash)."""
    if not names:
        return lambda _: ()
    get = attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (get(obj),)
    return get


def _repr_of(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"
    return __repr__


def _eq_of(compared: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented
    return __eq__


def _frozen(cls: Any, names: frozenset[str]) -> None:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    _method(cls, "__setattr__", __setattr__)
    _method(cls, "__delattr__", __delattr__)


class _HasFactory:
    def __repr__(self) -> str:
        return "<factory>"


#: The default of a parameter whose field has a ``default_factory`` (as in ``dataclass``).
_HAS_FACTORY = _HasFactory()


def _init_source(fields: list[dataclasses.Field[Any]], frozen: bool, post_init: bool,
                 scope: dict[str, Any]) -> str:
    params: list[str] = ["self"]
    keyword: list[str] = []
    lines: list[str] = []
    for f in fields:
        factory = f.default_factory is not dataclasses.MISSING
        if factory:
            scope[f"_factory_{f.name}"] = f.default_factory
        elif f.default is not dataclasses.MISSING:
            scope[f"_default_{f.name}"] = f.default
        if f.init:
            default = ("=_FACTORY" if factory else
                       f"=_default_{f.name}" if f.default is not dataclasses.MISSING else "")
            (keyword if f.kw_only else params).append(f"{f.name}{default}")
            value = (f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}" if factory
                     else f.name)
        elif factory:
            value = f"_factory_{f.name}()"
        elif f.default is not dataclasses.MISSING:
            value = f"_default_{f.name}"
        else:
            continue
        lines.append(f"    _set(self, {f.name!r}, {value})\n" if frozen
                     else f"    self.{f.name} = {value}\n")
    if keyword:
        params += ["*", *keyword]
    if post_init:
        lines.append("    self.__post_init__()\n")
    return f"def __init__({', '.join(params)}):\n{''.join(lines) or '    pass'}\n"


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=False):
        _SET(self, f.name, value)
