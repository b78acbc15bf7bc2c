"""Which proxy a registry request goes through: the environment read as Go's
``http.ProxyFromEnvironment`` reads it (golang.org/x/net/http/httpproxy's tests are the model)."""

from __future__ import annotations

import pytest

from kubectl_arch.registry.proxy import Proxy, for_url

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
