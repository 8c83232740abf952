"""``@record`` makes the class ``@dataclass`` makes, with the same behaviour (issue 9)."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any, ClassVar

import pytest

from pqltools.records import record

OPTIONS: list[dict[str, bool]] = [
    {"frozen": True, "slots": True}, {"frozen": True}, {"slots": True}, {}, {"eq": False},
    {"frozen": True, "eq": False}]


def _shape(decorate: Any) -> tuple[type, type]:
    """The same two class bodies (one nesting the other) given to ``decorate``."""
    @decorate
    class Inner:
        """A small record."""

        a: int
        b: str = "x"

    @decorate
    class Outer:
        """A record with every kind of field."""

        kind: ClassVar[str] = "outer"
        inner: Inner
        items: list[int] = dataclasses.field(default_factory=list)
        note: str | None = dataclasses.field(default=None, compare=False)
        hidden: dict[str, int] = dataclasses.field(default_factory=dict, repr=False,
                                                   hash=False)
        flag: bool = dataclasses.field(default=False, kw_only=True)

    return Inner, Outer


# pickling needs importable classes
Inner_record, Outer_record = _shape(record(frozen=True, slots=True))
Inner_record.__qualname__ = Inner_record.__name__ = "Inner_record"
Outer_record.__qualname__ = Outer_record.__name__ = "Outer_record"
Inner_plain, Outer_plain = _shape(dataclasses.dataclass(frozen=True, slots=True))
Inner_plain.__qualname__ = Inner_plain.__name__ = "Inner_plain"
Outer_plain.__qualname__ = Outer_plain.__name__ = "Outer_plain"


def _observe(inner_cls: type, outer_cls: type) -> list[Any]:
    """Everything a user of the two classes can see, with the class names taken out."""
    seen: list[Any] = []

    def attempt(fn: Any) -> Any:
        try:
            return ("ok", fn())
        except Exception as exc:  # noqa: BLE001 - the kind of failure is the behaviour
            return (type(exc).__name__, str(exc).replace(inner_cls.__name__, "I")
                    .replace(outer_cls.__name__, "O"))

    one = inner_cls(1)
    two = outer_cls(one, [1, 2], note="n", flag=True)
    same = outer_cls(inner_cls(1, "x"), [1, 2], note="other", flag=True)
    other = outer_cls(inner_cls(2))
    seen.append(str(inspect.signature(outer_cls)).replace(inner_cls.__name__, "I"))
    seen.append(str(inspect.signature(inner_cls)))
    seen.append(repr(two).replace(inner_cls.__name__, "I").replace(outer_cls.__name__, "O"))
    seen.append((two == same, two == other, two != same, one == inner_cls(1), one == 1))
    seen.append(attempt(lambda: hash(two) == hash(same)))
    seen.append(attempt(lambda: hash(one) == hash(inner_cls(1))))
    victim = inner_cls(1)
    seen.append(attempt(lambda: setattr(victim, "a", 5)))
    seen.append(attempt(lambda: delattr(victim, "b")))
    # a new attribute on a frozen slotted instance: refused either way (3.11's dataclass
    # refuses it with a TypeError from super(), @record with FrozenInstanceError)
    try:
        inner_cls(1).zzz = 5
        seen.append("accepted")
    except (AttributeError, TypeError):
        seen.append("refused")
    seen.append(attempt(lambda: outer_cls()))
    seen.append(attempt(lambda: outer_cls(one, [], None, {}, True)))
    seen.append([(f.name, f.default, f.compare, f.repr, f.kw_only)
                 for f in dataclasses.fields(outer_cls)])
    seen.append(dataclasses.asdict(two))
    seen.append(repr(dataclasses.replace(two, note="m")).replace(inner_cls.__name__, "I")
                .replace(outer_cls.__name__, "O"))
    seen.append((outer_cls.__match_args__, outer_cls.kind, dataclasses.is_dataclass(two)))
    seen.append(("__slots__" in outer_cls.__dict__, hasattr(two, "__dict__")))
    seen.append(outer_cls(one).items is not outer_cls(one).items)
    seen.append(attempt(lambda: copy.deepcopy(two) == two))
    params = outer_cls.__dataclass_params__  # type: ignore[attr-defined]
    seen.append((params.init, params.repr, params.eq, params.frozen))
    return seen


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_record_behaves_as_dataclass(options: dict[str, bool]) -> None:
    assert _observe(*_shape(record(**options))) == _observe(
        *_shape(dataclasses.dataclass(**options)))


def test_frozen_slotted_records_pickle() -> None:
    value = Outer_record(Inner_record(3), [4], note="n", flag=True)
    assert pickle.loads(pickle.dumps(value)) == value
    plain = Outer_plain(Inner_plain(3), [4], note="n", flag=True)
    assert repr(pickle.loads(pickle.dumps(value))).replace("_record", "") == repr(
        pickle.loads(pickle.dumps(plain))).replace("_plain", "")


def test_methods_of_the_class_body_are_kept() -> None:
    @record(frozen=True)
    class Custom:
        """Its own repr and equality."""

        a: int

        def __repr__(self) -> str:
            return "custom"

        def __eq__(self, other: object) -> bool:
            return True

        def __hash__(self) -> int:
            return 7

    assert repr(Custom(1)) == "custom" and Custom(1) == 2 and hash(Custom(1)) == 7


def test_post_init_runs() -> None:
    @record
    class Checked:
        """Calls __post_init__."""

        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    with pytest.raises(ValueError, match="negative"):
        Checked(-1)
    assert Checked(1).a == 1


def test_a_class_without_docstring_is_dataclass_s() -> None:
    @record(frozen=True)
    class Bare:
        a: int

    assert Bare.__doc__ == "Bare(a: 'int')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        Bare(1).a = 2  # type: ignore[misc]
