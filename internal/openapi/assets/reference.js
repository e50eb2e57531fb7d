// Renders the OpenAPI document named by ?spec= (iamport or v3) with the
// embedded Swagger UI. A file of its own: the page's CSP allows no inline script.
(function () {
  var spec = new URLSearchParams(location.search).get("spec") === "v3" ? "v3" : "iamport";
  document.getElementById("pick-" + spec).setAttribute("aria-current", "page");
  window.SwaggerUIBundle({
    url: "/openapi/" + spec + ".json",
    dom_id: "#reference",
    deepLinking: true,
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    validatorUrl: null
  });
})();
