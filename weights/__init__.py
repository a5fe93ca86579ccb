"""The shipped fast-mode networks, installed as package data `styler.weights`."""
