"""Which of a clip's metadata its stylized copy keeps: the rules a photo's EXIF follows
(styler.metadata, docs/photographers.md), for a video container's tags.

A phone's clip says when it was shot (the movie header's creation time, and on an iPhone a
creation date with its time zone), with which camera, and where; an editor's says who made
it. Apps sort a library by that date, so a stylized copy without it lands on the day it was
painted. Kept: date, camera and credits; the location only on request (--keep-location);
nothing of the source's with --strip-metadata. An allowlist: encoder names, software
versions and anything nobody thought about stay out.

A sound track's language and name (a second language, a commentary) say which track is
which, not anything about who filmed: they are kept with --strip-metadata too.
"""

from __future__ import annotations

from collections.abc import Mapping

from styler.imageio import PhotoOptions

DATE = ("creation_time", "date", "com.apple.quicktime.creationdate")
CAMERA = ("make", "model", "com.apple.quicktime.make", "com.apple.quicktime.model",
          "com.android.manufacturer", "com.android.model")  # fmt: skip
CREDITS = ("artist", "author", "copyright", "com.apple.quicktime.artist",
           "com.apple.quicktime.author", "com.apple.quicktime.copyright")  # fmt: skip
# location: Android's and FFmpeg's ISO 6709 string (MP4's loci box), QuickTime's key and
# its companions (accuracy, body, note)
LOCATION = ("location", "location-eng")
LOCATION_PREFIX = "com.apple.quicktime.location."
# Tags MP4's muxer writes in its own boxes (the movie header, iTunes-style items, loci);
# any other kept tag needs QuickTime's key-value metadata (movflags use_metadata_tags).
# Matroska's names for the same things (FFmpeg gives its tags as stored, in capitals:
# written lower-case, as MP4's; QuickTime's keys are kept as they are spelled)
ALIASES = {"date_recorded": "date"}
MP4_NATIVE = frozenset({"creation_time", "date", "artist", "copyright", "comment",
                        "location", "location-eng"})  # fmt: skip
UNKNOWN_LANGUAGE = "und"


def clip_tags(source: Mapping[str, str], photo: PhotoOptions) -> dict[str, str]:
    """The container tags the output carries of its source's."""
    if photo.strip_metadata:
        return {}
    kept = {}
    for key, value in source.items():
        name = ALIASES.get(key.lower()) or (key.lower() if key.isupper() else key)
        meaning = name.lower()
        where = meaning in LOCATION or meaning.startswith(LOCATION_PREFIX)
        if value and (meaning in DATE or meaning in CAMERA or meaning in CREDITS
                      or (where and photo.keep_location)):  # fmt: skip
            kept[name] = value
    return kept


def track_tags(source: Mapping[str, str], photo: PhotoOptions, *,
               named: bool = False) -> dict[str, str]:  # fmt: skip
    """The tags a track of the output carries of its source track's: its language, its
    creation time by the date rule, and (`named`: a sound track) its name, which MP4 keeps
    as the handler's and Matroska as the track's title."""
    kept = {}
    language = source.get("language", "")
    if language and language != UNKNOWN_LANGUAGE:
        kept["language"] = language
    if not photo.strip_metadata and source.get("creation_time"):
        kept["creation_time"] = source["creation_time"]
    name = source.get("title") or source.get("handler_name")
    if named and name:
        kept["handler_name"] = name
    return kept


def needs_key_value_tags(tags: Mapping[str, str]) -> bool:
    """Whether MP4 can carry these tags only as QuickTime key-value metadata."""
    return any(key not in MP4_NATIVE for key in tags)
