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
  var ringTimer = null;

  function stopRinging() {
    clearInterval(ringTimer);
    ringTimer = null;
    invitation = null;
    show("incoming", false);
    if (navigator.vibrate) navigator.vibrate(0);
  }

  calls.on("invite", function (invite) {
    if (calls.callId || invitation) { // the server marks us busy already; this only covers a race
      calls.decline(invite.call, "busy").catch(function () {});
      return;
    }
    invitation = invite;
    var until = Date.now() + (invite.ring_s || 30) * 1000;
    $("caller").textContent = "来电 " + (invite.from || "") + (invite.kind === "session" ? " · 会商 session" : "") +
      (invite.case_id ? " · 案件 " + invite.case_id : "");
    var tick = function () { $("ring-left").textContent = Math.max(0, Math.ceil((until - Date.now()) / 1000)) + " s"; };
    tick();
    ringTimer = setInterval(tick, 1000);
    $("incoming").setAttribute("data-call", invite.call);
    show("incoming", true);
    say("");
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
  });
  calls.on("invite_closed", function (closed) {
    if (!invitation || closed.call !== invitation.call) return;
    stopRinging();
    if (closed.reason === "missed") say("未接来电 missed call");
    else if (closed.reason !== "answered") say("对方已取消 call cancelled");
  });
  calls.on("remote", function () { render(); });
  calls.on("state", function () { render(); });
  calls.on("ended", function (snapshot) {
    show("incall", false);
    $("remote").innerHTML = "";
    $("incall").setAttribute("data-state", "ended");
    say("通话结束 call ended" + (snapshot && snapshot.reason ? "：" + WallCalls.reasonText(snapshot.reason) : ""));
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
      figure.setAttribute("data-muted-audio", String(Boolean(who && who.muted.audio)));
      figure.setAttribute("data-muted-video", String(Boolean(who && who.muted.video)));
      figure.querySelector("figcaption").textContent = who
        ? who.label + (who.muted.audio ? "〔静音 muted〕" : "") + (who.muted.video ? "〔无画面 no video〕" : "") : "";
    });
    if (calls.localStream && $("selfview").srcObject !== calls.localStream) $("selfview").srcObject = calls.localStream;
    var status = WallCalls.status(calls.snapshot, calls.participant);
    var snapshot = calls.snapshot;
    $("incall").setAttribute("data-state", status.state);
    $("callstate").textContent = status.text + (snapshot && snapshot.recording ? " · 录制中 REC" : "");
    var me = calls.me();
    ["audio", "video"].forEach(function (kind) {
      $("mute-" + kind).setAttribute("aria-pressed", String(Boolean(me && me.muted[kind])));
    });
  }

  $("accept").onclick = function () {
    if (!invitation) return;
    var invite = invitation;
    stopRinging();
    say("接通中… connecting");
    calls.accept(invite.call, invite.participant).then(function () { say(""); render(); },
      function (error) { say("接听失败 " + error.message); });
  };
  $("decline").onclick = function () {
    if (!invitation) return;
    var call = invitation.call;
    stopRinging();
    calls.decline(call, "declined").then(function () { say("已拒接 declined"); },
      function (error) { say(error.message); });
  };
  $("hangup").onclick = function () { calls.hangup().catch(function (error) { say(error.message); }); };
  ["audio", "video"].forEach(function (kind) {
    var button = $("mute-" + kind);
    button.onclick = function () {
      var what = {};
      what[kind] = button.getAttribute("aria-pressed") !== "true";
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
    window.addEventListener("wallhub:message", function (event) { // calls can ring from now on
      var message = event.detail || {};
      if (message.op === "subscribed" && message.topic === "user." + me.worker_id) {
        document.body.setAttribute("data-calls", "ready");
        $("ready").textContent = "可接听来电 ready for calls";
      }
    });
    subscribe();
  }, function (error) { say("not signed in: " + error.message); });
})();
