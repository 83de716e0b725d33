// Starts Swagger UI on /docs. It is a file, not an inline script, so that the page keeps the
// web interface's Content-Security-Policy (script-src 'self').
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    docExpansion: "list",
    filter: true,
    displayRequestDuration: true,
    showExtensions: true,
    showCommonExtensions: true,
    // no badge fetched from the public validator: nothing leaves this service
    validatorUrl: null,
  });
})();
