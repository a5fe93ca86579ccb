"""Exceptions whose messages are one actionable line, shown to users as-is, and the debug
switch that adds their tracebacks (for bug reports)."""

import os

DEBUG_ENV = "STYLER_DEBUG"  # 1: print the traceback of every failure, as `styler --debug` does
_debug_flag = False


def set_debug(on: bool) -> None:
    """Failures print their traceback too (`styler --debug`, a Ray actor of such a run)."""
    global _debug_flag
    _debug_flag = on


def debug_enabled() -> bool:
    """True after set_debug(True) or with STYLER_DEBUG set to anything but '', 0, no, off."""
    value = os.environ.get(DEBUG_ENV, "").strip().lower()
    return _debug_flag or value not in ("", "0", "false", "no", "off")



class StylerError(Exception):
    """Base class: the message alone tells the user what went wrong and what to do."""


class WeightsError(StylerError):
    """A network's weights are missing, unreadable or of an unknown layout."""


class OptionsError(StylerError, ValueError):
    """An option value is out of range or inconsistent with the others."""


class InvalidOption(OptionsError):
    """A control's value is outside what it accepts; each face words it for its user.

    `name` is the control's name (styler.controls), `expected` says what it takes.
    """

    def __init__(self, name: str, value: object, expected: str) -> None:
        self.name, self.value, self.expected = name, value, expected
        super().__init__(f"{name.replace('_', ' ')} must be {expected}, got {value!r}")


class UnknownOption(InvalidOption):
    """An option no control of the mode has: a typo caught as every bad value is (`except
    InvalidOption`); its own message lists the names the mode takes."""

    def __init__(self, name: str, value: object, mode: str, known: list[str]) -> None:
        self.name, self.value, self.mode = name, value, mode
        self.expected = "one of " + ", ".join(known)
        OptionsError.__init__(self, f"unknown option {name!r} for {mode} (known: "
                                    f"{', '.join(known)})")  # fmt: skip


class ImageSizeError(StylerError, ValueError):
    """An image's size is one the engine cannot take (e.g. an empty image)."""


class OptionNotInMode(OptionsError):
    """A control was given to a mode it does not act in (steps in fast mode, say)."""

    def __init__(self, name: str, mode: str) -> None:
        self.name, self.mode = name, mode
        super().__init__(f"{name.replace('_', ' ')} has no effect in {mode}")
