"""Exceptions whose messages are one actionable line, shown to users as-is."""


class StylerError(Exception):
    """Base class: the message alone tells the user what went wrong and what to do."""


class WeightsError(StylerError):
    """A network's weights are missing, unreadable or of an unknown layout."""


class OptionsError(StylerError, ValueError):
    """An option value is out of range or inconsistent with the others."""


class ImageSizeError(StylerError, ValueError):
    """An image's size is one the engine cannot take (e.g. an empty image)."""
