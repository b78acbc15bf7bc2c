"""Which proxy a registry request goes through: the environment read as Go's
``http.ProxyFromEnvironment`` reads it (golang.org/x/net/http/httpproxy's tests are the model)."""

from __future__ import annotations

import pytest

from kubectl_arch.registry.proxy import Proxy, ProxyConfigError, for_url

PROXY = "http://proxy.corp:3128"


@pytest.mark.parametrize(
    ("url", "environ", "expected"),
    [
        # HTTPS_PROXY for https, HTTP_PROXY for http; the upper-case name first.
        ("https://ghcr.io/v2/", {"HTTPS_PROXY": PROXY}, Proxy(PROXY, "HTTPS_PROXY")),
        ("https://ghcr.io/v2/", {"https_proxy": PROXY}, Proxy(PROXY, "https_proxy")),
        ("https://ghcr.io/v2/", {"HTTPS_PROXY": PROXY, "https_proxy": "http://other:1"}, Proxy(PROXY, "HTTPS_PROXY")),
        ("https://ghcr.io/v2/", {"HTTP_PROXY": PROXY}, None),
        ("http://registry.lab:5000/v2/", {"HTTP_PROXY": PROXY}, Proxy(PROXY, "HTTP_PROXY")),
        # No scheme: an http:// proxy. ALL_PROXY means nothing to Go.
        ("https://ghcr.io/v2/", {"HTTPS_PROXY": "proxy.corp:3128"}, Proxy(PROXY, "HTTPS_PROXY")),
        ("https://ghcr.io/v2/", {"ALL_PROXY": PROXY, "all_proxy": PROXY}, None),
        # HTTP_PROXY is ignored under CGI (httpoxy).
        ("http://registry.lab/v2/", {"HTTP_PROXY": PROXY, "REQUEST_METHOD": "GET"}, None),
        # Loopback hosts are never proxied.
        ("http://127.0.0.1:5000/v2/", {"HTTP_PROXY": PROXY}, None),
        ("http://127.9.9.9:5000/v2/", {"HTTP_PROXY": PROXY}, None),
        ("http://localhost:5000/v2/", {"HTTP_PROXY": PROXY}, None),
        ("http://[::1]:5000/v2/", {"HTTP_PROXY": PROXY}, None),
        ("https://[::ffff:127.0.0.1]:5000/v2/", {"HTTPS_PROXY": PROXY}, None),
        # Names under .localhost are not loopback to Go: proxied (and never sent credentials in
        # plain HTTP, see test_registry_hostile).
        ("http://reg.localhost:5000/v2/", {"HTTP_PROXY": PROXY}, Proxy(PROXY, "HTTP_PROXY")),
        # NO_PROXY: *, domains (with subdomains), leading dots (subdomains only), ports, IPs, CIDRs.
        ("https://ghcr.io/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "*"}, None),
        ("https://ghcr.io/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "example.com, ghcr.io"}, None),
        ("https://pkg.ghcr.io/v2/", {"HTTPS_PROXY": PROXY, "no_proxy": "ghcr.io"}, None),
        ("https://ghcr.io/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": ".ghcr.io"}, Proxy(PROXY, "HTTPS_PROXY")),
        ("https://pkg.ghcr.io/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "*.ghcr.io"}, None),
        ("https://notghcr.io/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "ghcr.io"}, Proxy(PROXY, "HTTPS_PROXY")),
        ("https://registry.lab:5000/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "registry.lab:5000"}, None),
        ("https://registry.lab/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "registry.lab:5000"}, Proxy(PROXY, "HTTPS_PROXY")),
        ("https://registry.lab/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "registry.lab:443"}, None),
        ("https://10.1.2.3/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "10.0.0.0/8"}, None),
        ("https://10.1.2.3:5000/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "10.1.2.3"}, None),
        ("https://10.1.2.4/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "10.1.2.3"}, Proxy(PROXY, "HTTPS_PROXY")),
        ("https://[2001:db8::1]/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "2001:db8::/32"}, None),
        ("https://GHCR.IO/v2/", {"HTTPS_PROXY": PROXY, "NO_PROXY": "ghcr.io"}, None),
    ],
)  # fmt: skip
def test_proxy_for(url: str, environ: dict[str, str], expected: Proxy | None) -> None:
    assert for_url(url, environ) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("socks5://127.0.0.1:1080", "$HTTPS_PROXY ('socks5://127.0.0.1:1080') is a SOCKS proxy, which kubectl-arch "
         "does not support; use an HTTP or HTTPS proxy"),
        ("socks5h://u:pw@127.0.0.1:1080", "$HTTPS_PROXY ('socks5h://REDACTED@127.0.0.1:1080') is a SOCKS proxy, "
         "which kubectl-arch does not support; use an HTTP or HTTPS proxy"),
        ("http://[::1", "$HTTPS_PROXY ('http://[::1') is not a valid proxy URL (invalid IPv6 URL)"),
        ("http://proxy:notaport", "$HTTPS_PROXY ('http://proxy:notaport') is not a valid proxy URL (port could "
         "not be cast to integer value as 'notaport')"),
        ("ftp://proxy:21", "$HTTPS_PROXY ('ftp://proxy:21') is not a valid proxy URL (scheme 'ftp'; expected "
         "http:// or https://)"),
        ("http://:3128", "$HTTPS_PROXY ('http://:3128') is not a valid proxy URL (no host)"),
    ],
)  # fmt: skip
def test_unusable_proxy_values_name_the_variable(value: str, message: str) -> None:
    with pytest.raises(ProxyConfigError) as exc:
        for_url("https://ghcr.io/v2/", {"HTTPS_PROXY": value})
    assert str(exc.value) == message
