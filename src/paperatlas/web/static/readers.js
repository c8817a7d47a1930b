// Progressive enhancement only: reader buttons on cached pages carry no per-visitor token, so copy the pa_csrf
// cookie into their csrf field before they are sent.  Without JavaScript the server asks once more instead.
(function () {
  function token() {
    var m = document.cookie.match(/(?:^|;\s*)pa_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  document.querySelectorAll("form.reader-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var field = form.querySelector("input[name=csrf]");
      if (field && !field.value) field.value = token();
    });
  });
})();
