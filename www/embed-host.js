// gil-lab embed host (optional): fits the height of every gil-lab iframe on this page to its
// content. The embed posts {type: "gil-lab:height", height} to its parent; nothing else is read.
(function () {
  "use strict";
  if (window.gilLabEmbedHost) return;
  window.gilLabEmbedHost = true;
  addEventListener("message", function (e) {
    var d = e.data;
    if (!d || d.type !== "gil-lab:height" || !(d.height > 0)) return;
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === e.source) {
        frames[i].style.height = Math.ceil(Math.min(d.height, 5000)) + "px";
      }
    }
  });
})();
