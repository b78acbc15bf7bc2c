"""``-v`` request logging: every secret redacted, in URLs, headers and free text."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from integration_util import KUBECTL_ARCH

from kubectl_arch import log

R = log.REDACTED


@pytest.fixture
def verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log, "verbosity", 1)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Nothing secret: unchanged.
        ("https://registry-1.docker.io/v2/library/nginx/manifests/1.27", None),
        ("https://127.0.0.1:5000/v2/_catalog?n=100&last=app", None),
        ("https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/nginx:pull", None),
        # User info.
        ("https://alice:s3cret@registry.example/v2/", f"https://{R}@registry.example/v2/"),
        ("https://ghp_abcdef123456@ghcr.io/v2/", f"https://{R}@ghcr.io/v2/"),
        ("http://user:p%40ss@127.0.0.1:5000/v2/x", f"http://{R}@127.0.0.1:5000/v2/x"),
        # Tokens and passwords in the query.
        (
            "https://r.example/token?access_token=abc.def&scope=pull",
            f"https://r.example/token?access_token={R}&scope=pull",
        ),
        (
            "https://r.example/token?scope=pull&refresh_token=xyz",
            f"https://r.example/token?scope=pull&refresh_token={R}",
        ),
        ("https://r.example/t?token=abc#frag", f"https://r.example/t?token={R}#frag"),
        (
            "https://r.example/login?user=bob&password=hunter2",
            f"https://r.example/login?user=bob&password={R}",
        ),
        (
            "https://r.example/x?client_secret=s&api_key=k",
            f"https://r.example/x?client_secret={R}&api_key={R}",
        ),
        # Pre-signed blob redirects: S3, GCS, Azure SAS, CloudFront.
        (
            "https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20240101"
            "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=1200&X-Amz-Security-Token=FwoG&X-Amz-Signature=f00d",
            "https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            f"{R}&X-Amz-Date=20240101T000000Z&X-Amz-Expires=1200&X-Amz-Security-Token={R}&X-Amz-Signature={R}",
        ),
        (
            "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p"
            "&X-Goog-Signature=0a1b",
            f"https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential={R}&X-Goog-Signature={R}",
        ),
        (
            "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&se=2024-01-01&sr=b&sp=r&sig=abc%3D",
            f"https://acct.blob.core.windows.net/c/b?sv=2021-08-06&se=2024-01-01&sr=b&sp=r&sig={R}",
        ),
        (
            "https://d111.cloudfront.net/blob?Expires=1700000000&Signature=abc~def&Key-Pair-Id=K2JCJMDEHXQW5F",
            f"https://d111.cloudfront.net/blob?Expires=1700000000&Signature={R}&Key-Pair-Id={R}",
        ),
        # Case does not matter; user info and query together.
        ("HTTPS://u:p@h/x?TOKEN=a&Sig=b", f"HTTPS://{R}@h/x?TOKEN={R}&Sig={R}"),
        # Docker Hub's CDN and other signing schemes: names that say credential, JWTs anywhere.
        (
            "https://production.cloudflare.docker.com/registry-v2/docker/registry/v2/blobs/sha256/ab/data"
            "?verify=1712345678-SIG",
            "https://production.cloudflare.docker.com/registry-v2/docker/registry/v2/blobs/sha256/ab/data"
            f"?verify={R}",
        ),
        (
            "https://cdn.example/b?jwt=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln&auth=x&access-token=y&n=1",
            f"https://cdn.example/b?jwt={R}&auth={R}&access-token={R}&n=1",
        ),
        (
            "https://cdn.example/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln/blob",
            f"https://cdn.example/{R}/blob",
        ),
        ("https://h/v2/x/blobs/uploads/?mount=sha256:ab&from=team/app", None),
    ],
)
def test_redact_url(url: str, expected: str | None) -> None:
    assert log.redact_url(url) == (url if expected is None else expected)


def test_redact_url_whole_query() -> None:
    assert log.redact_url("https://u:p@cdn.example/b?Expires=1&Hash=abc#f", whole_query=True) == (
        f"https://{R}@cdn.example/b?{R}#f"
    )
    assert log.redact_url("https://cdn.example/b", whole_query=True) == "https://cdn.example/b"


def test_redact_headers() -> None:
    headers = {
        "Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        "proxy-authorization": "Basic YWxpY2U6czNjcmV0",
        "Cookie": "session=abc",
        "Set-Cookie": "session=abc; HttpOnly",
        "X-Registry-Auth": "eyJ1c2VybmFtZSI6ImEifQ==",
        "X-Auth-Token": "t0k3n",
        "Accept": "application/vnd.oci.image.index.v1+json",
        "Docker-Content-Digest": "sha256:" + "0" * 64,
        "WWW-Authenticate": 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
    }
    assert log.redact_headers(headers) == {
        "Authorization": R,
        "proxy-authorization": R,
        "Cookie": R,
        "Set-Cookie": R,
        "X-Registry-Auth": R,
        "X-Auth-Token": R,
        "Accept": "application/vnd.oci.image.index.v1+json",
        "Docker-Content-Digest": "sha256:" + "0" * 64,
        "WWW-Authenticate": 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi_jkl", f"Authorization: Bearer {R}"),
        ("authorization: basic YWxpY2U6czNjcmV0==", f"authorization: basic {R}"),
        ("sent BEARER tok/en+= and more", f"sent BEARER {R} and more"),
        # A bare JWT (what token endpoints and service accounts hand out).
        (
            "got eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzIn0.sIgNaTuRe-_x for pull",
            f"got {R} for pull",
        ),
        # A token endpoint's reply, and a docker config entry.
        (
            '{"token": "abc", "access_token":"def", "expires_in": 300, "refresh_token" : "ghi"}',
            f'{{"token": "{R}", "access_token":"{R}", "expires_in": 300, "refresh_token" : "{R}"}}',
        ),
        (
            '{"auths": {"ghcr.io": {"auth": "YWxpY2U6czNjcmV0"}}}',
            f'{{"auths": {{"ghcr.io": {{"auth": "{R}"}}}}}}',
        ),
        (
            '{"identitytoken": "x", "password": "y", "username": "alice"}',
            f'{{"identitytoken": "{R}", "password": "{R}", "username": "alice"}}',
        ),
        # URLs inside messages: user info and signed query parameters.
        (
            "GET https://alice:pw@r.example/v2/ failed: 401",
            f"GET https://{R}@r.example/v2/ failed: 401",
        ),
        (
            "Max retries exceeded with url: /blob?X-Amz-Signature=abc&X-Amz-Date=1 (Caused by ...)",
            f"Max retries exceeded with url: /blob?X-Amz-Signature={R}&X-Amz-Date=1 (Caused by ...)",
        ),
        # A credential helper's complaint: key=value, key: value, and tokens of known shapes.
        (
            "error: could not decrypt: password=hunter2-SECRET token ghp_AbCdEf0123456789SECRET",
            f"error: could not decrypt: password={R} token {R}",
        ),
        ("secret: s3cr3t, API_KEY=k3y; db_passwd = x", f"secret: {R}, API_KEY={R}; db_passwd = {R}"),
        (
            "keys AKIAIOSFODNN7EXAMPLE glpat-abcdefghij0123456789 xoxb-1234567890-abcdef dckr_pat_0123456789abcdefXYZ",
            f"keys {R} {R} {R} {R}",
        ),
        # Nothing secret.
        ("pulling docker.io/library/nginx:1.27 for linux/arm64", None),
        ("r.example: token service 127.0.0.1:5001 answered 500", None),
        ("docker push 127.0.0.1:5000/fake/secret:v1_linux_amd64 and ghcr.io/o/token-cache:1", None),
        ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"', None),
        ("email user@example.com about it", None),
    ],
)
def test_redact_text(text: str, expected: str | None) -> None:
    assert log.redact(text) == (text if expected is None else expected)


def test_request_line_is_redacted(verbose: None, capsys: pytest.CaptureFixture[str]) -> None:
    log.request("GET", "https://u:p@r.example/v2/x/blobs/sha256:ab?X-Amz-Signature=s", 307, 0.0123)
    assert (
        capsys.readouterr().err
        == f"GET https://{R}@r.example/v2/x/blobs/sha256:ab?X-Amz-Signature={R} 307 in 12 ms\n"
    )
    log.request("POST", "https://r.example/token", "200 OK", 1.5)
    assert capsys.readouterr().err == "POST https://r.example/token 200 OK in 1500 ms\n"


def test_verbose_lines_are_escaped(verbose: None, capsys: pytest.CaptureFixture[str]) -> None:
    """A reason phrase or a Location from a server never reaches the terminal raw."""
    log.request("GET", "https://r.example/v2/\x1b]0;PWNED\x07x", "307 Moved \x1b]0;PWNED\x07", 0.001)
    log.debug("redirected to \x1b[2J\ud800 and a\nforged line")
    assert capsys.readouterr().err == (
        "GET https://r.example/v2/\\x1b]0;PWNED\\x07x 307 Moved \\x1b]0;PWNED\\x07 in 1 ms\n"
        "redirected to \\x1b[2J\\ud800 and a\\nforged line\n"
    )


def test_debug_is_redacted_and_levelled(verbose: None, capsys: pytest.CaptureFixture[str]) -> None:
    log.debug("retry with Authorization: Bearer abc and https://x:y@h/")
    log.debug("not shown at -v", level=2)
    assert capsys.readouterr().err == f"retry with Authorization: Bearer {R} and https://{R}@h/\n"


def test_nothing_is_logged_without_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    assert log.verbosity == 0
    log.request("GET", "https://r.example/v2/", 200, 0.001)
    log.debug("hello")
    assert capsys.readouterr().err == ""


SECRET = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~", min_size=6, max_size=40
)


@given(user=SECRET, password=SECRET, token=SECRET, signature=SECRET)
def test_secrets_never_survive(user: str, password: str, token: str, signature: str) -> None:
    template = (
        'GET https://@r.example/v2/a/b?token=&n=1&X-Amz-Signature= Authorization: Bearer ; {"password": ""}'
    )
    for secret in (user, password, token, signature):
        assume(secret not in template + R)
    url = f"https://{user}:{password}@r.example/v2/a/b?token={token}&n=1&X-Amz-Signature={signature}"
    out = log.redact_url(url)
    text = log.redact(f'GET {url} Authorization: Bearer {token}; {{"password": "{password}"}}')
    for secret in (user, password, token, signature):
        assert secret not in out
        assert secret not in text


def test_verbose_flag_is_accepted_by_the_group_and_commands() -> None:
    for args in (["-v", "--version"], ["pin", "-v", "--help"], ["-vv", "pin", "--help"]):
        proc = subprocess.run([str(KUBECTL_ARCH), *args], capture_output=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == b""
