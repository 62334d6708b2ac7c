// Renders /openapi.json with Redoc (served from /docs/redoc.standalone.js, a
// copy of the npm package redoc's standalone bundle). A file of its own, not
// an inline script, so the page works under the edge's Content-Security-Policy.
// Search is off: Redoc runs it in a worker made from a blob: URL, which the
// policy does not allow.
/* global Redoc */
Redoc.init(
  "/openapi.json",
  {
    disableSearch: true,
    expandResponses: "200,201",
    jsonSampleExpandLevel: 3,
    hideHostname: true,
    sortTagsAlphabetically: true,
  },
  document.getElementById("redoc"),
);
