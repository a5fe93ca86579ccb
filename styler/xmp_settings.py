"""The settings that made an output, in its XMP under styler's own namespace: where an
application's data belongs, and where no photo library looks for a caption. (EXIF's
ImageDescription held them until 7 December: Photos, Lightroom and Google Photos show that
field as the photo's caption, so every output was captioned with a line of JSON.)
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

NAMESPACE = "urn:styler:settings:1"
_ELEMENT = f"{{{NAMESPACE}}}settings"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def settings_packet(settings_json: str) -> bytes:
    """An XMP packet that holds `settings_json` and nothing else."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{_RDF}">'
        f'<rdf:Description rdf:about="" xmlns:styler="{NAMESPACE}">'
        f"<styler:settings>{escape(settings_json)}</styler:settings>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def settings_in_packet(xmp: bytes | str | None) -> str | None:
    """The settings JSON an XMP packet holds under styler's namespace (as an element, or as
    an attribute where a tool rewrote the packet so), or None."""
    if not xmp:
        return None
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    text = text.strip("\x00 \n\r\t")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if element.tag == _ELEMENT and element.text:
            return element.text
        if _ELEMENT in element.attrib:
            return element.attrib[_ELEMENT]
    return None
