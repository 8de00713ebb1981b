/* The field page: position sharing over the hub, and answering calls with window.WallCalls (calls.js).
 * window.fieldCalls is the page's WallCalls client. */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var calls = (window.fieldCalls = new WallCalls({ slots: 3, media: { audio: true, video: { facingMode: "environment" } } }));
  var invitation = null;
  var watch = null;
  var lastSent = 0;

  function say(text) { $("message").textContent = text || ""; }
  function show(id, on) { $(id).style.display = on ? "block" : "none"; }

  function hub() { return window.wallHub || null; }

  // ----- position -----
  function sendFix(position) {
    var now = Date.now();
    $("fix").textContent = position.coords.latitude.toFixed(5) + ", " + position.coords.longitude.toFixed(5);
    if (now - lastSent < 3000 || !hub()) return; // the hub takes at most 2 position frames a second
    lastSent = now;
    var c = position.coords;
    var frame = { op: "position", lat: c.latitude, lon: c.longitude, at: new Date(position.timestamp).toISOString() };
    if (c.accuracy != null) frame.accuracy_m = c.accuracy;
    if (c.speed != null) frame.speed_mps = c.speed;
    if (c.heading != null && !isNaN(c.heading)) frame.heading = c.heading;
    hub()._send(frame);
  }

  $("share").onclick = function () {
    if (watch !== null) {
      navigator.geolocation.clearWatch(watch);
      watch = null;
      $("share").setAttribute("aria-pressed", "false");
      $("share").textContent = "开始共享 Share";
      return;
    }
    if (!navigator.geolocation) return say("no geolocation on this device");
    watch = navigator.geolocation.watchPosition(sendFix, function (error) { say(error.message); },
      { enableHighAccuracy: true, maximumAge: 5000 });
    $("share").setAttribute("aria-pressed", "true");
    $("share").textContent = "停止共享 Stop";
  };

  // ----- calls -----
  calls.on("invite", function (invite) {
    if (calls.callId) { calls.decline(invite.call, "busy"); return; }
    invitation = invite;
    $("caller").textContent = "来电 " + (invite.from || "") + (invite.kind === "session" ? " · 会商 session" : "");
    show("incoming", true);
    if (navigator.vibrate) navigator.vibrate([400, 200, 400]);
  });
  calls.on("invite_closed", function (closed) {
    if (invitation && closed.call === invitation.call) { invitation = null; show("incoming", false); }
  });
  calls.on("remote", function (remote) { render(); });
  calls.on("state", function () { render(); });
  calls.on("ended", function (snapshot) {
    show("incall", false);
    $("remote").innerHTML = "";
    say("通话结束 call ended" + (snapshot && snapshot.reason ? " (" + snapshot.reason + ")" : ""));
  });
  calls.on("error", function (error) { say(String(error.message || error)); });

  function render() {
    if (!calls.callId) return;
    show("incall", true);
    var box = $("remote");
    Object.keys(calls.remote).forEach(function (slot) {
      var id = "slot-" + slot;
      var figure = $(id);
      if (!figure) {
        figure = document.createElement("figure");
        figure.id = id;
        figure.innerHTML = "<video autoplay playsinline></video><figcaption></figcaption>";
        box.appendChild(figure);
      }
      var video = figure.querySelector("video");
      if (video.srcObject !== calls.remote[slot]) video.srcObject = calls.remote[slot];
      var who = calls.shownIn(Number(slot));
      figure.style.display = who ? "block" : "none";
      var caption = figure.querySelector("figcaption");
      caption.textContent = who ? who.label : "";
      caption.className = who && (who.muted.audio || who.muted.video) ? "muted" : "";
    });
    if (calls.localStream && $("selfview").srcObject !== calls.localStream) $("selfview").srcObject = calls.localStream;
    var snapshot = calls.snapshot;
    $("callstate").textContent = snapshot ? "通话中 " + snapshot.state + (snapshot.recording ? " · 录制中 REC" : "") : "";
  }

  $("accept").onclick = function () {
    if (!invitation) return;
    var invite = invitation;
    invitation = null;
    show("incoming", false);
    calls.accept(invite.call, invite.participant).then(render, function (error) { say(error.message); });
  };
  $("decline").onclick = function () {
    if (!invitation) return;
    calls.decline(invitation.call, "declined");
    invitation = null;
    show("incoming", false);
  };
  $("hangup").onclick = function () { calls.hangup().catch(function (error) { say(error.message); }); };
  ["audio", "video"].forEach(function (kind) {
    var button = $("mute-" + kind);
    button.onclick = function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      var what = {};
      what[kind] = on;
      button.setAttribute("aria-pressed", String(on));
      calls.mute(what).catch(function (error) { say(error.message); });
    };
  });

  // Subscribe to our own invitation topic once the hub is up and we know our worker id.
  calls.loadConfig().then(function (config) {
    var me = config.me || {};
    if (me.worker_id == null) return say("sign in with a field worker's token (?token=…)");
    var subscribe = function () {
      if (!hub()) return setTimeout(subscribe, 200);
      hub().subscribe("user." + me.worker_id);
    };
    subscribe();
  }, function (error) { say("not signed in: " + error.message); });
})();
