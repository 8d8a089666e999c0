"""The s3 target against a real S3 API server process (moto's server mode on 127.0.0.1)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from deploy_support import SITE, deploy, make_project, write_tree

from repost import deploy_s3
from repost.deploy import MARKER

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(env_extra: dict | None = None):
    port = _free_port()
    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    pytest.fail("the moto S3 server did not start")


@pytest.fixture(scope="module")
def endpoint():
    proc, url = _start_server()
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(autouse=True)
def _fake_credentials(tmp_path, monkeypatch):
    """Fake keys in the environment; no real AWS config or instance metadata can be reached."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials")}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bucket(endpoint):
    name = f"blog-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return client, name


def _setup(tmp_path, endpoint, bucket_name, extra=", prefix: blog"):
    config = make_project(tmp_path, f"deploy:\n  - {{name: cdn, type: s3, bucket: {bucket_name}, "
                                    f"endpoint_url: '{endpoint}', region: us-east-1{extra}}}\n")
    return config, config.parent / "site"


def _objects(client, name, prefix="") -> dict[str, bytes]:
    out = {}
    for obj in client.list_objects_v2(Bucket=name, Prefix=prefix).get("Contents", []):
        out[obj["Key"]] = client.get_object(Bucket=name, Key=obj["Key"])["Body"].read()
    return out


def _versions(client, name) -> list[tuple[str, str]]:
    reply = client.list_object_versions(Bucket=name)
    items = reply.get("Versions", []) + reply.get("DeleteMarkers", [])
    return sorted((v["Key"], v["VersionId"]) for v in items)


def test_first_deploy_uploads_with_types_and_cache_headers(tmp_path, capsys, endpoint, bucket):
    client, name = bucket
    config, site = _setup(tmp_path, endpoint, name)
    code, out, err = deploy(capsys, config)
    assert code == 0, err
    assert "4 to upload, 0 to update, 0 to delete, 0 unchanged" in out
    assert _objects(client, name) == {f"blog/{k}": v.encode() for k, v in SITE.items()} | {
        f"blog/{MARKER}": deploy_s3._MARKER_TEXT}
    html = client.head_object(Bucket=name, Key="blog/index.html")
    assert html["ContentType"] == "text/html; charset=utf-8"
    assert html["CacheControl"] == "public, max-age=300"
    css = client.head_object(Bucket=name, Key="blog/assets/style.3f2a9c1b.css")
    assert css["ContentType"] == "text/css; charset=utf-8"
    assert css["CacheControl"] == "public, max-age=31536000, immutable"
    assert client.head_object(Bucket=name, Key="blog/feed.xml")["ContentType"] == "application/xml; charset=utf-8"


def test_second_deploy_uploads_nothing(tmp_path, capsys, endpoint, bucket):
    client, name = bucket
    config, site = _setup(tmp_path, endpoint, name)
    deploy(capsys, config)
    versions = _versions(client, name)
    code, out, _ = deploy(capsys, config)
    assert code == 0 and "0 to upload, 0 to update, 0 to delete, 4 unchanged" in out and "nothing to do" in out
    assert _versions(client, name) == versions  # not one PUT or DELETE reached the server


def test_changes_and_stale_deletion_stay_under_the_prefix(tmp_path, capsys, endpoint, bucket):
    client, name = bucket
    client.put_object(Bucket=name, Key="other/keep.html", Body=b"not ours")
    client.put_object(Bucket=name, Key="blogroll.html", Body=b"shares the prefix text, not the folder")
    config, site = _setup(tmp_path, endpoint, name)
    deploy(capsys, config)
    (site / "feed.xml").unlink()
    (site / "index.html").write_text("changed", encoding="utf-8")
    write_tree(site, {"图片/a.png": b"\x89PNG fake"})
    code, out, _ = deploy(capsys, config, "-v")
    assert code == 0
    assert "1 to upload, 1 to update, 1 to delete, 2 unchanged" in out
    assert "+ 图片/a.png" in out and "- feed.xml" in out and "~ index.html" in out
    objects = _objects(client, name)
    assert "blog/feed.xml" not in objects and objects["blog/index.html"] == b"changed"
    assert objects["other/keep.html"] == b"not ours" and "blogroll.html" in objects
    assert client.head_object(Bucket=name, Key="blog/图片/a.png")["ContentType"] == "image/png"


def test_dry_run_changes_nothing(tmp_path, capsys, endpoint, bucket):
    client, name = bucket
    config, site = _setup(tmp_path, endpoint, name)
    code, out, _ = deploy(capsys, config, "--dry-run")
    assert code == 0 and "4 to upload" in out and "dry run" in out
    assert _versions(client, name) == []
    deploy(capsys, config)
    (site / "feed.xml").unlink()
    versions = _versions(client, name)
    code, out, _ = deploy(capsys, config, "--dry-run")
    assert code == 0 and "0 to upload, 0 to update, 1 to delete, 3 unchanged" in out
    assert _versions(client, name) == versions


def test_foreign_objects_under_the_prefix_need_force(tmp_path, capsys, endpoint, bucket):
    client, name = bucket
    client.put_object(Bucket=name, Key="old-site.html", Body=b"old")
    config, site = _setup(tmp_path, endpoint, name, extra="")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "1 object(s) that are not in the site" in err and "--force" in err
    assert list(_objects(client, name)) == ["old-site.html"]
    assert deploy(capsys, config, "--force")[0] == 0
    assert set(_objects(client, name)) == set(SITE) | {MARKER}


def test_a_failure_midway_is_reported_with_what_was_done(tmp_path, capsys, endpoint, bucket, monkeypatch):
    from botocore.exceptions import ClientError

    client, name = bucket
    config, site = _setup(tmp_path, endpoint, name)
    real_put = deploy_s3._put

    def put(client, bucket, key, *args):
        if key.endswith("index.html") and "posts" in key:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your request rate."}}, "PutObject")
        real_put(client, bucket, key, *args)

    monkeypatch.setattr(deploy_s3, "_put", put)
    code, _, err = deploy(capsys, config)
    assert code == 1 and err.count("\n") == 1
    assert "S3 PutObject failed: SlowDown" in err and "partially applied: 3 uploaded" in err and "of 4 changes" in err


def test_missing_bucket_is_one_clear_line(tmp_path, capsys, endpoint):
    config, site = _setup(tmp_path, endpoint, "no-such-bucket-here")
    code, _, err = deploy(capsys, config)
    assert code == 1 and err.count("\n") == 1
    assert "deploy target 'cdn' (s3): bucket 'no-such-bucket-here' does not exist" in err


def test_network_failure_is_one_clear_line(tmp_path, capsys):
    config, site = _setup(tmp_path, f"http://127.0.0.1:{_free_port()}", "some-bucket")
    code, _, err = deploy(capsys, config)
    assert code == 1 and err.count("\n") == 1
    assert "deploy target 'cdn' (s3): S3 request failed: Could not connect" in err


def test_missing_credentials_is_one_clear_line(tmp_path, capsys, endpoint, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    config, site = _setup(tmp_path, endpoint, "some-bucket")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "no S3 credentials" in err


def test_access_denied_is_one_clear_line(tmp_path, capsys):
    proc, url = _start_server({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})  # this server checks keys
    try:
        config, site = _setup(tmp_path, url, "locked-bucket")
        code, _, err = deploy(capsys, config)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert code == 1 and err.count("\n") == 1
    assert "deploy target 'cdn' (s3): access denied to bucket 'locked-bucket'" in err


@pytest.mark.parametrize("extra, message", [
    (", prefix: 'a/../b'", "'..' part"),
    (", endpoint_url: 'ftp://x'", "must be an http(s) URL"),
])
def test_bad_options_are_refused(tmp_path, capsys, extra, message):
    config = make_project(tmp_path, f"deploy:\n  - {{name: cdn, type: s3, bucket: b-ok{extra}}}\n")
    code, _, err = deploy(capsys, config)
    assert code == 1 and message in err


@pytest.mark.parametrize("rel, ctype, cache", [
    ("index.html", "text/html; charset=utf-8", "public, max-age=300"),
    ("posts/a/index.html", "text/html; charset=utf-8", "public, max-age=300"),
    ("assets/app-0123abcd.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
    ("style.css", "text/css; charset=utf-8", "public, max-age=3600"),
    ("archive-20261127.html", "text/html; charset=utf-8", "public, max-age=300"),
    ("page.3f2a9c1b.html", "text/html; charset=utf-8", "public, max-age=300"),
    ("img/photo-20261127.png", "image/png", "public, max-age=3600"),
    ("img/photo.9F2A9C1B0E.PNG", "image/png", "public, max-age=31536000, immutable"),
    ("atom.xml", "application/xml; charset=utf-8", "public, max-age=3600"),
    ("img/photo.JPG", "image/jpeg", "public, max-age=3600"),
    ("icon.svg", "image/svg+xml; charset=utf-8", "public, max-age=3600"),
    ("fonts/x.woff2", "font/woff2", "public, max-age=3600"),
    ("CNAME", "application/octet-stream", "public, max-age=3600"),
])
def test_content_type_and_cache_control(rel, ctype, cache):
    assert deploy_s3.content_type(rel) == ctype
    assert deploy_s3.cache_control(rel) == cache
