"""What an uploaded file is, from its bytes: the kind sniffed (puremagic's signatures, then a
look into ZIP archives' central directory and SQLite headers), checked against the allow-list
and against the type the client claimed; zip bombs refused without unpacking anything to
memory; file names sanitised. No database here: the callers pass the file and the limits."""

from __future__ import annotations

import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import puremagic

from cmsreporting.errors import FieldError, InvalidInput, UnsupportedMediaType

HEAD = 64 * 1024
ZIP_SMALL = 10 * 1024 * 1024  # below this much unpacked, a ZIP's ratio does not matter
ZIP_MAX_MEMBERS = 20_000
GENERIC_CLAIMS = frozenset({"", "application/octet-stream", "binary/octet-stream"})


@dataclass(frozen=True)
class Kind:
    """An allowed kind of file: the media type it is stored with, the types a client may claim
    for it and the file name extensions it may carry."""

    name: str
    media_type: str
    claims: frozenset[str]
    extensions: frozenset[str]


def _kind(name: str, media_type: str, claims: str = "", extensions: str = "") -> Kind:
    return Kind(
        name, media_type, frozenset({media_type, *claims.split()}), frozenset(extensions.split())
    )


ZIP_CLAIMS = "application/zip application/x-zip-compressed application/x-zip multipart/x-zip"
OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
KINDS = {
    k.name: k
    for k in (
        _kind("pdf", "application/pdf", "application/x-pdf", ".pdf"),
        _kind("png", "image/png", "", ".png"),
        _kind("jpeg", "image/jpeg", "image/jpg image/pjpeg", ".jpg .jpeg .jpe .jfif"),
        _kind("gif", "image/gif", "", ".gif"),
        _kind("webp", "image/webp", "", ".webp"),
        _kind("tiff", "image/tiff", "image/tif image/geotiff", ".tif .tiff"),
        _kind("bmp", "image/bmp", "image/x-bmp image/x-ms-bmp", ".bmp"),
        _kind(
            "ole",  # Office 97-2003 documents (one container format for all three)
            "application/vnd.ms-office",
            "application/msword application/vnd.ms-excel application/vnd.ms-powerpoint "
            "application/x-ole-storage",
            ".doc .xls .ppt .dot .xlt .pot",
        ),
        _kind("docx", OOXML + "wordprocessingml.document", ZIP_CLAIMS, ".docx .zip"),
        _kind("xlsx", OOXML + "spreadsheetml.sheet", ZIP_CLAIMS, ".xlsx .zip"),
        _kind("pptx", OOXML + "presentationml.presentation", ZIP_CLAIMS, ".pptx .zip"),
        _kind("odt", ODF + "text", ZIP_CLAIMS, ".odt .zip"),
        _kind("ods", ODF + "spreadsheet", ZIP_CLAIMS, ".ods .zip"),
        _kind("odp", ODF + "presentation", ZIP_CLAIMS, ".odp .zip"),
        _kind("odg", ODF + "graphics", ZIP_CLAIMS, ".odg .zip"),
        _kind(
            "shapefile",  # a zipped shapefile: .shp, .shx and .dbf (and more) in one archive
            "application/zip",
            ZIP_CLAIMS + " application/x-shapefile application/vnd.shp x-gis/x-shapefile",
            ".zip .shz",
        ),
        _kind("zip", "application/zip", ZIP_CLAIMS, ".zip"),
        _kind(
            "geopackage",
            "application/geopackage+sqlite3",
            "application/x-sqlite3 application/vnd.sqlite3",
            ".gpkg",
        ),
        _kind(
            "csv",
            "text/csv",
            "text/plain application/csv text/x-csv text/comma-separated-values "
            "application/vnd.ms-excel text/tab-separated-values",
            ".csv .tsv .txt",
        ),
        _kind("geojson", "application/geo+json", "application/json text/plain", ".geojson .json"),
    )
}
ZIP_FAMILY = frozenset({"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "odg", "shapefile"})
KNOWN_EXTENSIONS = frozenset().union(*(k.extensions for k in KINDS.values()))
ALLOWED = (
    "PDF, Office and OpenDocument documents, images (PNG, JPEG, GIF, WebP, TIFF, BMP), CSV, "
    "ZIP, GeoJSON, GeoPackage, zipped shapefiles"
)

# puremagic's extension of a signature match -> the kind it starts (ZIP, SQLite refined below)
SIGNATURES = {
    ".pdf": "pdf",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jfif": "jpeg",
    ".jpe": "jpeg",
    ".gif": "gif",
    ".webp": "webp",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".bmp": "bmp",
    ".doc": "ole",
    ".xls": "ole",
    ".ppt": "ole",
    ".msi": "ole",
    ".ole": "ole",
    ".zip": "zip",
    ".docx": "zip",
    ".xlsx": "zip",
    ".pptx": "zip",
    ".odt": "zip",
    ".ods": "zip",
    ".odp": "zip",
    ".odg": "zip",
    ".jar": "zip",
    ".apk": "zip",
    ".epub": "zip",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
    ".gpkg": "sqlite",
}
TEXT_CONTROLS = set(range(32)) - {9, 10, 12, 13}


def _refuse(detail: str, field: str, sniffed: str | None = None) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        detail,
        errors=[FieldError(f"/{field}" if field else "", detail, parameter=field or "file")],
        allowed=ALLOWED,
        sniffed=sniffed,
    )


# --- file names -----------------------------------------------------------------------------

RESERVED = set('<>:"|?*')


def clean_file_name(raw: str | None) -> str | None:
    """A file name fit to store and serve: Unicode NFC, Windows' reserved characters replaced,
    no leading dots, no trailing dots or spaces; None for one that cannot be made so (path
    separators, control or invisible formatting characters such as bidirectional overrides)."""
    name = unicodedata.normalize("NFC", (raw or "document").strip())
    if any(
        c in "/\\" or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for c in name
    ):
        return None
    name = "".join("_" if c in RESERVED else c for c in name).lstrip(".").rstrip(". ")
    if not name or len(name) > 255:
        return None
    return name


def extension(file_name: str) -> str:
    return PurePosixPath(file_name.lower()).suffix


# --- zip archives ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipLimits:
    max_bytes: int
    max_ratio: int


def _zip_kind(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> str:
    names = {m.filename for m in members}
    lowered = {n.lower() for n in names}
    if "mimetype" in names:
        with archive.open("mimetype") as handle:
            declared = handle.read(100).decode("ascii", "replace").strip()
        for kind in ("odt", "ods", "odp", "odg"):
            if declared == KINDS[kind].media_type:
                return kind
    if "[Content_Types].xml" in names:
        for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(n.startswith(prefix) for n in names):
                return kind
    stems = {PurePosixPath(n).with_suffix("").as_posix() for n in lowered if n.endswith(".shp")}
    if stems and all(f"{s}.shx" in lowered and f"{s}.dbf" in lowered for s in stems):
        return "shapefile"
    return "zip"


def check_zip(path: Path, size: int, limits: ZipLimits) -> str:
    """The kind of a ZIP archive (Office, OpenDocument, shapefile or plain), once it is known
    not to be a zip bomb: the unpacked sizes its central directory declares are summed (never
    more than `limits.max_bytes`, nor `limits.max_ratio` times the archive's size past 10 MiB
    unpacked), then every member is inflated in small chunks and counted, so that a directory
    lying about sizes is caught too; nothing is unpacked to memory or disk."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > ZIP_MAX_MEMBERS:
                raise _bomb(f"more than {ZIP_MAX_MEMBERS} members")
            declared = sum(m.file_size for m in members)
            _check_total(declared, size, limits)
            unpacked = 0
            for member in members:
                if member.is_dir():
                    continue
                if member.flag_bits & 0x1:
                    continue  # encrypted: its declared size is all one can know
                with archive.open(member) as handle:
                    while chunk := handle.read(HEAD):
                        unpacked += len(chunk)
                        if unpacked > declared:
                            raise _bomb("members unpack to more than the archive declares")
            _check_total(unpacked, size, limits)
            return _zip_kind(archive, members)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise _refuse(f"not a readable ZIP archive ({exc})", "") from None


def _check_total(unpacked: int, size: int, limits: ZipLimits) -> None:
    if unpacked > limits.max_bytes:
        raise _bomb(f"it unpacks to more than {limits.max_bytes} bytes")
    if unpacked > ZIP_SMALL and unpacked > limits.max_ratio * size:
        raise _bomb(f"it unpacks to more than {limits.max_ratio} times its size")


def _bomb(why: str) -> InvalidInput:
    detail = f"the ZIP archive is refused as a zip bomb: {why}"
    return InvalidInput(detail, errors=[FieldError("", detail, parameter="file")])


# --- text: CSV and GeoJSON ------------------------------------------------------------------


def _text_kind(head: bytes, claimed: str, ext: str) -> str:
    if any(b in TEXT_CONTROLS for b in head) or (head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise _refuse("the file's type is not allowed (not a known binary format)", "")
    text = (
        head.decode("utf-8", errors="ignore") if _utf8(head) else head.decode("cp1252", "replace")
    )
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        raise _refuse("markup (HTML, XML, SVG) is not an allowed type", "")
    json_like = stripped.startswith("{")
    wants_json = claimed in KINDS["geojson"].claims - {"text/plain"} or ext in (".geojson", ".json")
    if json_like and wants_json:
        if '"type"' not in stripped:
            raise _refuse('a GeoJSON file names its "type"', "")
        return "geojson"
    if wants_json:
        raise _refuse("the bytes are not GeoJSON", "")
    wants_csv = claimed in KINDS["csv"].claims - {"text/plain"} or ext in (".csv", ".tsv")
    if not wants_csv:
        raise _refuse(
            "a text file is accepted as CSV (.csv, text/csv) or GeoJSON (.geojson)", "file_name"
        )
    return "csv"


def _utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and len(head) >= HEAD  # cut inside a character
    return True


# --- sniffing -------------------------------------------------------------------------------


def _signature(head: bytes) -> str | None:
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    for match in matches:
        found = SIGNATURES.get(str(match.extension).lower())
        if found == "bmp" and int.from_bytes(head[14:18], "little") not in (12, 40, 56, 108, 124):
            continue  # "BM" alone is no bitmap (a CSV may start so): its DIB header is not there
        if found is not None:
            return found
    return None


def sniff(
    path: Path, *, size: int, claimed: str, file_name: str, claim_field: str, zips: ZipLimits
) -> Kind:
    """The allowed kind of the file at `path` (415 naming the field when its type is not
    allowed or contradicts the claimed media type or the file name's extension; 422 for a
    zip bomb)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD)
    claimed = claimed.split(";")[0].strip().lower()
    ext = extension(file_name)
    found = _signature(head)
    if found == "zip":
        found = check_zip(path, size, zips)
    elif found == "sqlite":
        if head[68:72] != b"GPKG":
            raise _refuse("an SQLite database is accepted only as a GeoPackage", "")
        found = "geopackage"
    elif found is None:
        found = "pdf" if head.startswith(b"%PDF-") else _text_kind(head, claimed, ext)
    kind = KINDS[found]
    if claimed not in GENERIC_CLAIMS and claimed not in kind.claims:
        raise _refuse(
            f"the bytes are {kind.media_type}, not the claimed {claimed}",
            claim_field,
            sniffed=kind.media_type,
        )
    if ext in KNOWN_EXTENSIONS and ext not in kind.extensions:
        raise _refuse(
            f"the bytes are {kind.media_type}, which a {ext} file name contradicts",
            "file_name",
            sniffed=kind.media_type,
        )
    return kind


def stored_type(kind: Kind, claimed: str) -> str:
    """The media type a file is stored with: its kind's, or for Office 97-2003 files the one
    claimed among those of the kind."""
    claimed = claimed.split(";")[0].strip().lower()
    if kind.name == "ole" and claimed in kind.claims:
        return claimed
    return kind.media_type
