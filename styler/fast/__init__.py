"""Fast mode: small feed-forward networks that stylize a photo in one pass."""
