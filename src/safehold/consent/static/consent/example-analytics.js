/* An example "analytics" script for checking the wiring: list /static/consent/example-analytics.js
   under the analytics category's scripts and _sh_example_analytics under its cookies. It sets
   one first-party cookie and marks the page; it sends nothing anywhere. */
(function () {
  "use strict";
  document.cookie = "_sh_example_analytics=1; Path=/; Max-Age=31536000; SameSite=Lax";
  document.documentElement.setAttribute("data-example-analytics", "ran");
})();
