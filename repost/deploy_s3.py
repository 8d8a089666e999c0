"""Deploy to S3-compatible object storage with boto3: upload what changed, delete what is gone.

Changes are found by content: an object whose ETag is the MD5 of the local file is left alone
(single-part uploads, which is all this module makes). Every object gets a Content-Type (with a
charset for text) and a Cache-Control: a year for fingerprinted assets, minutes for HTML.
Credentials come from boto3's own chain (environment, ~/.aws, instance roles), never config.yaml.
"""
from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from typing import Any

from repost.deploy import MARKER, REQUIRED, Job, Plan

KEYS = {"bucket": (str, REQUIRED), "prefix": (str, ""), "endpoint_url": (str, None), "region": (str, None)}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TYPES = {
    ".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
    ".mjs": "text/javascript", ".json": "application/json", ".map": "application/json",
    ".xml": "application/xml", ".txt": "text/plain", ".md": "text/markdown", ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json", ".ico": "image/x-icon", ".png": "image/png",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".avif": "image/avif", ".woff": "font/woff", ".woff2": "font/woff2", ".pdf": "application/pdf",
}
_TEXT = ("text/", "application/json", "application/xml", "application/manifest+json", "image/svg+xml",
         "application/javascript", "application/atom+xml", "application/rss+xml")
# a fingerprint: 8+ hex digits with a letter and a digit (style.3f2a9c1b.css), not a date (20261127)
_HASHED = re.compile(r"[.-](?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\.[A-Za-z0-9]+$")
CACHE = {
    "hashed": "public, max-age=31536000, immutable",
    "html": "public, max-age=300",
    "other": "public, max-age=3600",
}
_MARKER_TEXT = b"This prefix is published by `repost deploy` (s3); objects not in the site are deleted.\n"


def check(job: Job) -> None:
    bucket, prefix = job.options["bucket"], job.options["prefix"].strip("/")
    if not _BUCKET.match(bucket):
        raise job.error(f"bucket {bucket!r} is not a valid bucket name")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise job.error(f"prefix {job.options['prefix']!r} has an empty, '.' or '..' part")
    endpoint = job.options["endpoint_url"]
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise job.error(f"endpoint_url {endpoint!r} must be an http(s) URL")
    job.options["prefix"] = f"{prefix}/" if prefix else ""
    job.dest = f"s3://{bucket}/{job.options['prefix']}"
    try:
        import boto3  # noqa: F401  (optional dependency: pip install 'repost[s3]')
    except ImportError:
        raise job.error("the s3 target needs boto3: pip install 'repost[s3]'") from None


def content_type(rel: str) -> str:
    """The Content-Type header for a site path; text types carry charset=utf-8."""
    suffix = "." + rel.rsplit(".", 1)[-1].lower() if "." in rel.rsplit("/", 1)[-1] else ""
    kind = _TYPES.get(suffix) or mimetypes.guess_type(rel)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(_TEXT) else kind


def cache_control(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1].lower()
    if name.endswith((".html", ".htm")):  # pages keep their URL, so never cache them long
        return CACHE["html"]
    return CACHE["hashed"] if _HASHED.search(name) else CACHE["other"]


def run(job: Job) -> None:
    client, errors = _client(job)
    try:
        _run(job, client)
    except errors as exc:
        raise job.error(_describe(job, exc)) from None


def _run(job: Job, client: Any) -> None:
    bucket, prefix = job.options["bucket"], job.options["prefix"]
    remote = _list(client, bucket, prefix)
    first = MARKER not in remote
    upload, update, md5s = [], [], {}
    for rel, path in job.files.items():
        md5s[rel] = hashlib.md5(path.read_bytes()).hexdigest()
        if rel not in remote:
            upload.append(rel)
        elif remote[rel] != md5s[rel]:
            update.append(rel)
    delete = [rel for rel in sorted(remote) if rel not in job.files and rel != MARKER]
    plan = Plan(tuple(upload), tuple(update), tuple(delete), len(job.files) - len(upload) - len(update))
    if first and delete and not job.force:
        for rel in delete:
            job.ui.detail(f"  would delete {rel}")
        raise job.error(f"{job.dest} holds {len(delete)} object(s) that are not in the site and repost never "
                        "deployed there; use an empty prefix, or pass --force to mirror the site there anyway")
    if not job.proceed(plan):
        return
    if first:
        _put(client, bucket, prefix + MARKER, _MARKER_TEXT, "text/plain; charset=utf-8", CACHE["other"])
    new = set(plan.upload)
    for rel in plan.upload + plan.update:
        _put(client, bucket, prefix + rel, job.files[rel].read_bytes(), content_type(rel), cache_control(rel))
        if rel in new:
            job.done.uploaded += 1
        else:
            job.done.updated += 1
    for start in range(0, len(delete), 1000):
        batch = delete[start:start + 1000]
        reply = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": prefix + r} for r in batch],
                                                             "Quiet": True})
        failed = reply.get("Errors") or []
        job.done.deleted += len(batch) - len(failed)
        if failed:
            raise job.error(f"cannot delete {failed[0].get('Key')}: {failed[0].get('Code')} {failed[0].get('Message', '')}")


def _list(client: Any, bucket: str, prefix: str) -> dict[str, str]:
    """Relative key -> ETag (quotes stripped) of everything under the prefix."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix):]] = obj.get("ETag", "").strip('"')
    return found


def _put(client: Any, bucket: str, key: str, body: bytes, ctype: str, cache: str) -> None:
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype, CacheControl=cache, ContentMD5=md5)


def _client(job: Job) -> tuple[Any, tuple[type[BaseException], ...]]:
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError

    options = {"retries": {"max_attempts": 3, "mode": "standard"}, "connect_timeout": 10, "read_timeout": 60,
               "request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}
    if job.options["endpoint_url"]:
        options["s3"] = {"addressing_style": "path"}  # S3-compatible servers rarely do virtual hosts
    try:
        client = boto3.session.Session().client(
            "s3", endpoint_url=job.options["endpoint_url"], region_name=job.options["region"],
            config=BotoConfig(**options))
    except (BotoCoreError, ValueError) as exc:
        raise job.error(f"cannot set up the S3 client: {exc}") from None
    return client, (BotoCoreError, ClientError)


def _describe(job: Job, exc: BaseException) -> str:
    from botocore.exceptions import ClientError, NoCredentialsError

    bucket = job.options["bucket"]
    if isinstance(exc, NoCredentialsError):
        return "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        if code == "NoSuchBucket":
            return f"bucket '{bucket}' does not exist"
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return f"access denied to bucket '{bucket}' ({code}: {message or 'check the credentials'})"
        return f"S3 {exc.operation_name} failed: {code}: {message}".rstrip(": ")
    return f"S3 request failed: {exc}"
