// Progressive enhancement only: every page works without this file.
// 1. Long abstracts in lists collapse to a few lines and expand on click or Enter.
(function () {
  document.querySelectorAll(".list .abstract").forEach(function (el) {
    if (el.textContent.length < 400) return;
    el.classList.add("clamped");
    el.setAttribute("tabindex", "0");
    el.setAttribute("title", "Show the whole abstract");
    function toggle() { el.classList.toggle("clamped"); }
    el.addEventListener("click", toggle);
    el.addEventListener("keydown", function (e) { if (e.key === "Enter") toggle(); });
  });
  var style = document.createElement("style");
  style.textContent = ".clamped{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden;cursor:pointer}";
  document.head.appendChild(style);
})();
// The subscribe box on cached pages cannot carry a per-visitor CSRF token: fetch one from /subscribe (which also
// sets its cookie) just before submitting.  Without JavaScript the digest's form page asks once more instead.
(function () {
  var form = document.querySelector(".subscribe form");
  if (!form || !window.fetch || !window.DOMParser) return;
  form.addEventListener("submit", function (e) {
    if (form.querySelector("input[name=csrf]")) return;
    e.preventDefault();
    fetch("/subscribe", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var token = doc.querySelector("input[name=csrf]");
        if (token) {
          var input = document.createElement("input");
          input.type = "hidden"; input.name = "csrf"; input.value = token.value;
          form.appendChild(input);
        }
        form.submit();
      })
      .catch(function () { form.submit(); });
  });
})();
// Search facets: open beside the results on a wide screen, folded under their toggle on a phone so that the
// first results are on the first screen.
(function () {
  var box = document.querySelector("details.facetbox");
  if (!box || !window.matchMedia) return;
  if (window.matchMedia("(max-width: 640px)").matches) box.removeAttribute("open");
})();
