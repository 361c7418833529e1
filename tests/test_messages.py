"""Every validation message is in qconf's words, with a hint; errors come in file order."""

from __future__ import annotations

import pytest

import qconf
from qconf.config.origin import LayerKind, Origin, Source
from qconf.errors import Problems, ValidationError, flatten, in_file_order
from qconf.model.messages import describe, given

BAD_VALUES = ["imac", 5, True, [1], {"a": 1}, 1.5, "x y", -1, "0x", "nope nope"]


def _every_property() -> list[tuple[str, str]]:
    registry = qconf.builtin_registry(plugins=False)
    return [(info.name, name) for info in registry for name in info.model().model_fields]


@pytest.mark.parametrize(("type_name", "prop"), _every_property(),
                         ids=str)  # fmt: skip
def test_no_pydantic_wording_reaches_a_user(type_name: str, prop: str) -> None:
    import pydantic

    info = qconf.builtin_registry(plugins=False).get(type_name)
    model = info.model()
    field = model.model_fields[prop]
    for bad in BAD_VALUES:
        try:
            model.model_validate({prop: bad})
        except pydantic.ValidationError as exc:
            for err in exc.errors():
                if not err["loc"] or err["loc"][0] != prop or err["type"] == "missing":
                    continue
                message, hint = describe(err, field, info.units.get(prop))
                assert "Input should" not in message, (bad, message)
                assert "Value error" not in message, (bad, message)
                if err["type"] != "value_error":
                    assert hint, (bad, err["type"], message)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("x", "the text 'x'"), (5, "the number 5"), (True, "the boolean true"),
     ([1], "a list"), ({}, "a map"), (None, "nothing (null)")],
)  # fmt: skip
def test_given_names_what_was_written(value: object, shown: str) -> None:
    assert given(value) == shown


def _error(name: str, line: int, col: int, kind: LayerKind = LayerKind.FILE) -> ValidationError:
    origin = Origin(Source(name, layer=f"file {name}", kind=kind), line, col)
    return ValidationError(f"at {name}:{line}", origin=origin)


def test_errors_come_in_file_order() -> None:
    errors = [_error("b.yaml", 9, 1), _error("b.yaml", 3, 5), _error("b.yaml", 3, 2),
              ValidationError("nowhere"), _error("--set #1", 0, 0, LayerKind.SET),
              _error("p.yaml", 20, 1, LayerKind.PROFILE)]  # fmt: skip
    ordered = [e.message for e in in_file_order(errors)]
    assert ordered == ["at p.yaml:20", "at b.yaml:3", "at b.yaml:3", "at b.yaml:9",
                       "at --set #1:0", "nowhere"]  # fmt: skip
    assert [e.origin.col for e in in_file_order(errors)[1:3] if e.origin] == [2, 5]
    nested = Problems([errors[0], Problems(errors[1:3])])
    assert [(e.origin.line, e.origin.col) for e in flatten(nested) if e.origin] == [
        (3, 2), (3, 5), (9, 1)]  # fmt: skip
