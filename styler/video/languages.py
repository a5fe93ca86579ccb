"""Track languages as MP4 stores them: ISO 639-2 codes of three letters. Matroska, WebM and
subtitle tools also write two-letter ISO 639-1 codes and BCP 47 tags ("en", "pt-BR",
"zh-Hans"), which FFmpeg's MP4 muxer cannot pack and drops; they are turned into the three
letters MP4 takes (its terminology form, as ISO 14496-12 asks).
"""

from __future__ import annotations

import re

UNKNOWN_LANGUAGE = "und"
# ISO 639-1 code -> ISO 639-2/T code, the 184 languages that have both (from the iso-codes
# project's iso_639-2.json).
_PAIRS = (
    "aa:aar ab:abk ae:ave af:afr ak:aka am:amh an:arg ar:ara as:asm av:ava ay:aym az:aze "
    "ba:bak be:bel bg:bul bh:bih bi:bis bm:bam bn:ben bo:bod br:bre bs:bos ca:cat ce:che "
    "ch:cha co:cos cr:cre cs:ces cu:chu cv:chv cy:cym da:dan de:deu dv:div dz:dzo ee:ewe "
    "el:ell en:eng eo:epo es:spa et:est eu:eus fa:fas ff:ful fi:fin fj:fij fo:fao fr:fra "
    "fy:fry ga:gle gd:gla gl:glg gn:grn gu:guj gv:glv ha:hau he:heb hi:hin ho:hmo hr:hrv "
    "ht:hat hu:hun hy:hye hz:her ia:ina id:ind ie:ile ig:ibo ii:iii ik:ipk io:ido is:isl "
    "it:ita iu:iku ja:jpn jv:jav ka:kat kg:kon ki:kik kj:kua kk:kaz kl:kal km:khm kn:kan "
    "ko:kor kr:kau ks:kas ku:kur kv:kom kw:cor ky:kir la:lat lb:ltz lg:lug li:lim ln:lin "
    "lo:lao lt:lit lu:lub lv:lav mg:mlg mh:mah mi:mri mk:mkd ml:mal mn:mon mr:mar ms:msa "
    "mt:mlt my:mya na:nau nb:nob nd:nde ne:nep ng:ndo nl:nld nn:nno no:nor nr:nbl nv:nav "
    "ny:nya oc:oci oj:oji om:orm or:ori os:oss pa:pan pi:pli pl:pol ps:pus pt:por qu:que "
    "rm:roh rn:run ro:ron ru:rus rw:kin sa:san sc:srd sd:snd se:sme sg:sag si:sin sk:slk "
    "sl:slv sm:smo sn:sna so:som sq:sqi sr:srp ss:ssw st:sot su:sun sv:swe sw:swa ta:tam "
    "te:tel tg:tgk th:tha ti:tir tk:tuk tl:tgl tn:tsn to:ton tr:tur ts:tso tt:tat tw:twi "
    "ty:tah ug:uig uk:ukr ur:urd uz:uzb ve:ven vi:vie vo:vol wa:wln wo:wol xh:xho yi:yid "
    "yo:yor za:zha zh:zho zu:zul"
)
_TWO_TO_THREE = dict(pair.split(":") for pair in _PAIRS.split())
_PRIMARY = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")


def mp4_language(tag: str) -> str:
    """The three-letter code MP4 stores for a track's language tag ("en", "pt-BR", "fra",
    "fre"), or UNKNOWN_LANGUAGE where it names none MP4 can carry."""
    match = _PRIMARY.fullmatch(tag.strip())
    if not match:
        return UNKNOWN_LANGUAGE
    primary = match.group(1).lower()
    if len(primary) == 3:
        return primary
    return _TWO_TO_THREE.get(primary, UNKNOWN_LANGUAGE)
