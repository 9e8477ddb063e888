/* The widget manager (book/_static/widgets/embed.js, for MathJax 2) typesets a widget's label with
 * MathJax.Hub.Queue whenever a MathJax object exists; the book loads MathJax 3, which has no Hub, and
 * the call throws. This gives MathJax 3 the one Hub method the manager calls, by its MathJax 3 name. */
(function () {
  function addHub() {
    var mj = window.MathJax;
    if (!mj || !mj.version || mj.Hub) return; // not loaded yet, or not MathJax 3, or already there
    mj.Hub = {
      Queue: function () {
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset" && mj.typesetPromise) {
            var el = job[2];
            mj.typesetPromise(el ? [el] : undefined).catch(function () {});
          }
        }
      },
    };
  }
  addHub();
  document.addEventListener("DOMContentLoaded", addHub);
  window.addEventListener("load", addHub, { capture: true });
})();
