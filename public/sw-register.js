// Registers the service worker and offers a reload when a new version is installed.
(function () {
  if (!("serviceWorker" in navigator)) return;
  const de = (document.documentElement.lang || "de").startsWith("de");
  const text = de ? "Neue Version verfügbar" : "New version available";
  const action = de ? "Neu laden" : "Reload";
  let userAskedReload = false;

  function offer(worker) {
    if (document.getElementById("update-banner")) return;
    const bar = document.createElement("div");
    bar.id = "update-banner";
    bar.className = "update-banner";
    bar.setAttribute("role", "status");
    const label = document.createElement("span");
    label.textContent = text + " — ";
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = action;
    button.addEventListener("click", function () {
      userAskedReload = true;
      button.disabled = true;
      worker.postMessage("skipWaiting");
    });
    bar.appendChild(label);
    bar.appendChild(button);
    document.body.appendChild(bar);
  }

  navigator.serviceWorker.addEventListener("controllerchange", function () {
    if (userAskedReload) window.location.reload();
  });

  window.addEventListener("load", function () {
    navigator.serviceWorker
      .register("sw.js")
      .then(function (reg) {
        if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
        reg.addEventListener("updatefound", function () {
          const worker = reg.installing;
          if (!worker) return;
          worker.addEventListener("statechange", function () {
            if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
          });
        });
        // Tablets stay open for days: look for a new version every hour.
        setInterval(function () { reg.update().catch(function () {}); }, 60 * 60 * 1000);
      })
      .catch(function (e) { console.warn("service worker not registered", e); });
  });
})();
