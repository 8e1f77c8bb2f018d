/* Where the page's widget manager (embed-amd.js, loaded right after this) finds its files and the
   widget modules that are not built in, such as anywidget: this book's own _static/widgets/
   folder, never a CDN. The manager reads data-jupyter-widgets-cdn from the page's script tags
   and loads <cdn>anywidget@<version>/dist/index.js with require.js (scripts/
   fetch_widget_assets.py copies the file there); its icon fonts resolve against the module path
   configured below. URLs are absolute because pages sit at different depths. */
(function () {
  "use strict";
  const script = document.currentScript;
  const folder = new URL("widgets/", script.src).href;
  script.setAttribute("data-jupyter-widgets-cdn", folder);
  script.setAttribute("data-jupyter-widgets-cdn-only", "");
  window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": folder.replace(/\/$/, "") } });
})();
