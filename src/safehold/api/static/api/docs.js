// Starts Swagger UI on /api/v1/docs (a static file: the CSP allows no inline script).
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  var csrfToken = root.dataset.csrfToken;
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Swagger UI would otherwise send the document to a validator on another host.
    validatorUrl: null,
    requestInterceptor: function (request) {
      // A signed-in person trying a write from this page: Django's CSRF check.
      if (csrfToken) {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
