"""Where file bytes live: ``default_storage`` (django-storages S3 when configured, local files
otherwise). Every S3-specific call (presigned POST, head, signed download URL) is here, with
botocore errors turned into our own errors: S3 unreachable, timing out or failing is
``StorageUnavailable`` (503 ``storage_unavailable``), within the short timeouts of
core/s3.py."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings
from django.core.files.storage import default_storage

from core.errors import InvalidInput

from .errors import StorageUnavailable

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200
MAX_KEY_NAME_LENGTH = 100
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$")


def is_s3() -> bool:
    return hasattr(default_storage, "bucket_name") and hasattr(default_storage, "connection")


def clean_filename(raw: Any) -> str:
    """The display name of an uploaded file: percent-decoded, no path, no control characters,
    at most 200 characters (the extension kept). Names with nothing left are refused."""
    name = str(raw or "")
    for _ in range(3):  # %252e%252e%252f → %2e%2e%2f → ../
        decoded = unquote(name)
        if decoded == name:
            break
        name = decoded
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # NUL, controls, bidi marks
    name = re.split(r"[\\/]", name)[-1].strip().lstrip(".").strip()
    if not name:
        raise InvalidInput(
            "The file name is empty or invalid.", fields={"name": ["Give the file a name."]}, code="invalid_filename"
        )
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH]
    return name


def key_safe_name(name: str) -> str:
    """An ASCII slug of a cleaned name for the storage key (the key never depends on odd characters)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = _KEY_UNSAFE.sub("_", ascii_name).strip("._") or "file"
    if len(safe) > MAX_KEY_NAME_LENGTH:
        stem, dot, ext = safe.rpartition(".")
        safe = (stem[: MAX_KEY_NAME_LENGTH - len(ext) - 1] + "." + ext) if dot and len(ext) <= 16 else safe[:100]
    return safe


def clean_content_type(raw: Any) -> str:
    value = str(raw or "").strip().lower() or "application/octet-stream"
    value = value.split(";")[0].strip()
    if not _CONTENT_TYPE.match(value):
        raise InvalidInput(
            "Invalid content type.", fields={"content_type": ["Must look like type/subtype."]}, code="validation_error"
        )
    return value


def object_key(*, project_id: Any, file_id: Any, name: str) -> str:
    return f"projects/{project_id}/{file_id.hex if hasattr(file_id, 'hex') else file_id}/{key_safe_name(name)}"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = key_safe_name(name).replace('"', "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _client() -> Any:
    return default_storage.connection.meta.client  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


def presigned_post(*, key: str, size: int, content_type: str, expires_in: int) -> PresignedPost:
    """A browser POST form that S3 accepts only for exactly ``size`` bytes, this key and this type."""
    try:
        data = _client().generate_presigned_post(
            Bucket=default_storage.bucket_name,  # type: ignore[attr-defined]
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=expires_in,
        )
    except Exception as exc:  # noqa: BLE001 — botocore raises many kinds
        logger.warning("presigned POST failed: %s", exc)
        raise StorageUnavailable() from exc
    return PresignedPost(url=data["url"], fields=dict(data["fields"]))


def stored_size(key: str) -> int | None:
    """The stored object's size, or None when there is no such object."""
    if is_s3():
        from botocore.exceptions import ClientError

        try:
            head = _client().head_object(Bucket=default_storage.bucket_name, Key=key)  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            logger.warning("head_object failed: %s", exc)
            raise StorageUnavailable() from exc
        except Exception as exc:  # noqa: BLE001 — connection refused, timeouts, botocore's many kinds
            logger.warning("head_object failed: %s", exc)
            raise StorageUnavailable() from exc
        return int(head["ContentLength"])
    if not default_storage.exists(key):
        return None
    return int(default_storage.size(key))


def save(*, key: str, content: Any) -> str:
    try:
        return str(default_storage.save(key, content))
    except Exception as exc:  # noqa: BLE001
        logger.warning("storage save failed: %s", exc)
        raise StorageUnavailable() from exc


def delete(key: str) -> None:
    default_storage.delete(key)


def download_url(*, key: str, name: str, content_type: str) -> str:
    """A signed GET URL served as an attachment with the original name (S3 only)."""
    expires = min(settings.PROJECTS_DOWNLOAD_URL_EXPIRY_SECONDS, 900)
    try:  # signing is local (no request to S3), so this answers even while S3 is down
        return str(
            default_storage.url(  # type: ignore[call-arg]
                key,
                parameters={
                    "ResponseContentDisposition": content_disposition(name),
                    "ResponseContentType": content_type,
                },
                expire=expires,
            )
        )
    except Exception as exc:  # noqa: BLE001
        logger.warning("signing a download URL failed: %s", exc)
        raise StorageUnavailable() from exc


def open_file(key: str) -> Any:
    return default_storage.open(key, "rb")
