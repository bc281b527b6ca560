"""GET /docs: an interactive reference of the API, Swagger UI reading /openapi.json.

Swagger UI's files come from the `swagger-ui-bundle` package and are served by
Berth itself under /docs/assets/, so the page needs nothing from any other
host (no CDN). Like /openapi.json, it needs no API key; "Authorize" in the page
takes a key to try the endpoints with.
"""

from __future__ import annotations

import falcon
import swagger_ui_bundle

from berth.http.endpoint import PUBLIC, Endpoint

ASSETS = "/docs/assets"
ASSETS_DIRECTORY: str = swagger_ui_bundle.swagger_ui_path

PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Berth API reference</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head>
<body>
  <div id="reference"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="/docs/start.js"></script>
</body>
</html>
"""

START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
});
"""


class DocsResource:
    endpoints = {"GET": Endpoint(summary="The interactive API reference", tag="operations",
                                 roles=PUBLIC)}  # fmt: skip

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = PAGE


class DocsStartResource:
    endpoints = DocsResource.endpoints

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JS
        resp.text = START


def add_docs(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    """Serve the reference page, its start script and Swagger UI's files (not in the document)."""
    app.add_route("/docs", DocsResource())
    app.add_route("/docs/start.js", DocsStartResource())
    app.add_static_route(ASSETS, ASSETS_DIRECTORY)
