// The models page: while a training runs, show its stage and elapsed time from
// /staff/models/status, and reload the page once it has ended (the result is
// rendered by the server). Only the stage is a live region: screen readers hear the
// stage change, not every tick of the clock.
(function () {
  "use strict";
  var status = document.getElementById("training-status");
  if (!status) return;
  var stage = document.getElementById("training-stage");
  var elapsed = document.getElementById("training-elapsed");
  var url = status.getAttribute("data-status-url");
  var id = status.getAttribute("data-id");

  function minutes(seconds) {
    return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (!body) return;
        if (String(body.id) !== id || !body.running) {
          window.location.reload();
          return;
        }
        if (body.stage_label && stage.textContent !== body.stage_label) {
          stage.textContent = body.stage_label;
        }
        if (typeof body.elapsed_seconds === "number") {
          elapsed.textContent = minutes(body.elapsed_seconds);
        }
      })
      .catch(function () {
        /* the next poll tries again */
      });
  }
  window.setInterval(poll, 3000);
})();
