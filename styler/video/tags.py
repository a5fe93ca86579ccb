"""Which of a clip's metadata its stylized copy keeps: the rules a photo's EXIF follows
(styler.metadata, docs/photographers.md), for a video container's tags.

A phone's clip says when it was shot (the movie header's creation time, and on an iPhone a
creation date with its time zone), with which camera, and where; an editor's says who made
it. Apps sort a library by that date, so a stylized copy without it lands on the day it was
painted. Kept: date, camera and credits; the location only on request (--keep-location);
nothing of the source's with --strip-metadata. An allowlist: encoder names, software
versions and anything nobody thought about stay out.

Chapters (an edited film's, a lecture's) are kept with their titles, cut to a part, with
--strip-metadata too: they are the film's structure.

A sound track's language and name (a second language, a commentary) say which track is
which, not anything about who filmed: they are kept with --strip-metadata too, and so is a
camera's start timecode, which lets an editor lay the stylized clip in sync over the take it
was made from (a part of a clip starts at its own first frame's timecode).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from styler.imageio import PhotoOptions
from styler.video.languages import UNKNOWN_LANGUAGE, mp4_language

DATE = ("creation_time", "date", "com.apple.quicktime.creationdate")
CAMERA = ("make", "model", "com.apple.quicktime.make", "com.apple.quicktime.model",
          "com.android.manufacturer", "com.android.model")  # fmt: skip
CREDITS = ("artist", "author", "copyright", "com.apple.quicktime.artist",
           "com.apple.quicktime.author", "com.apple.quicktime.copyright")  # fmt: skip
# location: Android's and FFmpeg's ISO 6709 string (MP4's loci box), QuickTime's key and
# its companions (accuracy, body, note)
LOCATION = ("location", "location-eng")
LOCATION_PREFIX = "com.apple.quicktime.location."
# Matroska's names for the same things (FFmpeg gives its tags as stored, in capitals:
# written lower-case, as MP4's; QuickTime's keys are kept as they are spelled)
ALIASES = {"date_recorded": "date"}
# Tags MP4's muxer writes in its own boxes (the movie header, iTunes-style items, loci);
# any other kept tag needs QuickTime's key-value metadata (movflags use_metadata_tags).
MP4_NATIVE = frozenset({"creation_time", "date", "artist", "copyright", "comment",
                        "location", "location-eng"})  # fmt: skip
# SMPTE timecode, HH:MM:SS:FF, with ';' (or '.') before the frames where it drops frames
TIMECODE = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})([:;.])(\d{2,3})")
DROPPED = {30: 2, 60: 4}  # frame labels a drop-frame clock skips each minute, by nominal rate


def legacy_text(raw: bytes) -> str:
    """Bytes of text as their writer meant them: UTF-8, else Windows' Western encoding (what
    older cameras, tools and subtitle files write), else Latin-1 for the few bytes that one
    leaves undefined."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1")


def tag_text(value: str) -> str:
    """A tag as its writer meant it. Clips are opened with their tags read as UTF-8 and any
    other bytes kept as surrogate escapes (styler.video.reader.open_clip)."""
    return legacy_text(value.encode("utf-8", "surrogateescape"))


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
            kept[name] = tag_text(value)
    return kept


def picture_tags(stream: Mapping[str, str], container: Mapping[str, str]) -> dict[str, str]:
    """The picture's own tags, its timecode under `timecode` wherever the file keeps it:
    MP4 and MOV on the video stream, Matroska as TIMECODE on the stream or the file."""
    tags = dict(stream)
    for source in (stream, container):
        found = [value for key, value in source.items() if key.lower() == "timecode"]
        if found:
            tags["timecode"] = found[0]
            break
    return tags


def track_tags(source: Mapping[str, str], photo: PhotoOptions, *,
               named: bool = False) -> dict[str, str]:  # fmt: skip
    """The tags a track of the output carries of its source track's: its language, its
    creation time by the date rule, and (`named`: a sound track) its name, which MP4 keeps
    as the handler's and Matroska as the track's title."""
    kept = {}
    if TIMECODE.fullmatch(source.get("timecode", "")):
        kept["timecode"] = source["timecode"]
    language = mp4_language(tag_text(source.get("language", "")))
    if language != UNKNOWN_LANGUAGE:
        kept["language"] = language
    if not photo.strip_metadata and source.get("creation_time"):
        kept["creation_time"] = tag_text(source["creation_time"])
    name = source.get("title") or source.get("handler_name")
    if named and name:
        kept["handler_name"] = tag_text(name)
    return kept


# What a sound or subtitle track's flags say of it, kept: which track a player picks
# (default), subtitles shown even with subtitles off (forced: a foreign line in the film),
# and what the track is (commentary, the original language, for the hard of hearing, ...).
KEPT_DISPOSITIONS = (
    av.stream.Disposition.default | av.stream.Disposition.forced
    | av.stream.Disposition.comment | av.stream.Disposition.original
    | av.stream.Disposition.dub | av.stream.Disposition.hearing_impaired
    | av.stream.Disposition.visual_impaired | av.stream.Disposition.descriptions
    | av.stream.Disposition.captions | av.stream.Disposition.lyrics
    | av.stream.Disposition.karaoke
)


def track_disposition(source: Any) -> Any:
    """The flags a track of the output carries of its source track's (KEPT_DISPOSITIONS)."""
    return source.disposition & KEPT_DISPOSITIONS


def needs_key_value_tags(tags: Mapping[str, str]) -> bool:
    """Whether MP4 can carry these tags only as QuickTime key-value metadata."""
    return any(key not in MP4_NATIVE for key in tags)


def later_timecode(timecode: str, frames: int, rate: Fraction) -> str:
    """The SMPTE timecode `frames` frames after `timecode` at `rate` frames a second; in
    drop-frame timecode (29.97 and 59.94 fps) the frame numbers a clock skips are skipped
    (the first two, or four, of every minute but each tenth). A timecode that does not
    parse is returned as it is."""
    match = TIMECODE.fullmatch(timecode)
    if match is None or frames <= 0:
        return timecode
    hours, minutes, seconds, separator, frame = match.groups()
    base = max(1, round(rate))
    dropping = separator != ":" and rate.denominator == 1001  # 29.97 and 59.94 only
    drop = DROPPED.get(base, 0) if dropping else 0
    counted = (int(hours) * 3600 + int(minutes) * 60 + int(seconds)) * base + int(frame)
    every_minute = int(hours) * 60 + int(minutes)
    number = counted - drop * (every_minute - every_minute // 10) + frames
    if drop:  # back to the labels a drop-frame clock shows
        tens, rest = divmod(number, base * 600 - drop * 9)
        number += drop * 9 * tens
        if rest > drop:
            number += drop * ((rest - drop) // (base * 60 - drop))
    clock = number // base
    return (f"{clock // 3600 % 24:02d}:{clock // 60 % 60:02d}:{clock % 60:02d}"
            f"{separator}{number % base:02d}")  # fmt: skip


@dataclass(frozen=True)
class Chapter:
    """A chapter: its span in seconds of the file's clock, and its title."""

    start: float
    end: float
    title: str = ""


def read_chapters(container: Any) -> tuple[Chapter, ...]:
    """An input container's chapters, in seconds of its clock."""
    return tuple(Chapter(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]),
                         tag_text(c["metadata"].get("title", "")))
                 for c in container.chapters() if c["end"] > c["start"])  # fmt: skip


def chapters_within(chapters: tuple[Chapter, ...], origin: float,
                    length: float) -> tuple[Chapter, ...]:  # fmt: skip
    """The chapters of a part that starts at `origin` (the file's clock) and lasts `length`
    seconds, in the part's clock: those outside it left out, those across its ends cut."""
    return tuple(Chapter(max(0.0, c.start - origin), min(length, c.end - origin), c.title)
                 for c in chapters if c.end > origin and c.start < origin + length)  # fmt: skip


def chapter_entries(chapters: tuple[Chapter, ...]) -> list[dict[str, Any]]:
    """Chapters as PyAV's OutputContainer.set_chapters takes them (milliseconds). MP4 keeps a
    chapter's start only, the first from 0: where the first starts later, one more fills the
    time before it, so that it keeps its start. An untitled chapter is named as players name
    it, "Chapter N": FFmpeg's MP4 muxer garbles the chapters after an untitled one."""
    if chapters and chapters[0].start > 0:
        chapters = (Chapter(0.0, chapters[0].start), *chapters)
    ms = Fraction(1, 1000)
    return [{"id": index, "start": round(c.start * 1000), "end": round(c.end * 1000),
             "time_base": ms, "metadata": {"title": c.title or f"Chapter {index}"}}
            for index, c in enumerate(chapters, 1)]  # fmt: skip
