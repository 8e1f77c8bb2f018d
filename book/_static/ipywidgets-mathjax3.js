/* ipywidgets typesets widget labels with the MathJax 2 call MathJax.Hub.Queue(["Typeset", hub, el]);
   the book loads MathJax 3, which has no Hub. This adds a small Hub that typesets with MathJax 3,
   and holds requests made before MathJax has started. */
(function () {
  "use strict";
  const pending = [];
  const hub = {
    Queue: function (command) {
      const element = Array.isArray(command) ? command[2] : undefined;
      const mathjax = window.MathJax;
      if (mathjax && mathjax.typesetPromise && mathjax.startup && mathjax.startup.promise) {
        mathjax.startup.promise = mathjax.startup.promise
          .then(() => mathjax.typesetPromise(element ? [element] : undefined))
          .catch((error) => console.warn("MathJax could not typeset a widget label:", error));
      } else {
        pending.push(element);
      }
    },
  };
  function flush() {
    const elements = pending.splice(0).filter(Boolean);
    return elements.length ? window.MathJax.typesetPromise(elements) : undefined;
  }
  // Sphinx has written the configuration object; MathJax 3 replaces it with itself on load.
  let current = window.MathJax || {};
  current.startup = Object.assign({}, current.startup, {
    pageReady: () => window.MathJax.startup.defaultPageReady().then(flush),
  });
  current.Hub = hub;
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: () => current,
    set: (value) => {
      current = value;
      if (value && typeof value === "object" && !value.Hub) value.Hub = hub;
    },
  });
})();
