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
