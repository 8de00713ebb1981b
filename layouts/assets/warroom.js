/* The war room (平战结合): one incident takes over the screen (window.WarRoom).
 * - /warroom/ follows the current incident, /warroom/<id> shows one, /warroom/<id>/report its report;
 * - the wall (/wall/) follows incidents too: on `incident.declared` (hub topic `incidents`) it switches in-page
 *   to the war-room stage, on `incident.stood_down` back to peacetime; `?follow=0` pins it to peacetime.
 * Ring membership of workers is computed here from the incident centre and the `positions` batches. */
(function () {
  "use strict";

  var DESIGN_W = 3840;
  var DESIGN_H = 2160;
  var RING_COLORS = ["#ff2d55", "#ffb020", "#29d3ff", "#7f9cc4", "#7f9cc4"];
  var KINDS = {
    declared: "宣布战时", dispatch: "就近派遣", ack: "应答", arrival: "到达", broadcast: "范围广播",
    broadcast_read: "已读回执", note: "记录", conference: "会商", camera: "视频接入", stood_down: "解除战时",
  };
  var ORDER = { offered: "待接单", accepted: "已接单", declined: "已拒绝", expired: "超时", cancelled: "已撤销" };
  var RESOURCE = { shelter: "避难场所", hydrant: "消防栓", vehicle: "应急车辆", stock: "物资储备" };

  var Core;
  var config;
  var mode = null; // "follow" (wall, /warroom/) or "fixed" (/warroom/<id>)
  var onWall = false;
  var hub = null;
  var incident = null; // the incident shown, or null in peacetime
  var map = null;
  var layers = {};
  var track = null;
  var role = null;
  var callId = null;
  var listsDue = false;
  var whenMapReady = null; // resolves once the map and its layers exist

  function byId(id) {
    return document.getElementById(id);
  }

  function ringOf(metres) {
    var rings = incident.rings_m;
    for (var i = 0; i < rings.length; i++) if (metres <= rings[i]) return rings[i];
    return null;
  }

  function ringName(m) {
    return m >= 1000 ? m / 1000 + " 公里" : m + " 米";
  }

  function fitStage() {
    var stage = byId("warroom-stage");
    if (!stage || stage.hidden) return;
    var scale = Math.min(window.innerWidth / DESIGN_W, window.innerHeight / DESIGN_H);
    stage.style.width = window.innerWidth / scale + "px";
    stage.style.height = window.innerHeight / scale + "px";
    stage.style.transform = "scale(" + scale + ")";
    if (map) map.invalidateSize(false);
  }

  function say(text, bad) {
    var box = byId("wr-message");
    box.textContent = text;
    box.classList.toggle("bad", !!bad);
  }

  /* ---- switching between peacetime and the war room ---- */

  function show(data) {
    incident = data;
    document.body.setAttribute("data-mode", "warroom");
    document.body.setAttribute("data-incident", String(data.id));
    var stage = byId("warroom-stage");
    stage.hidden = false;
    stage.querySelectorAll("[data-panel]").forEach(function (node) {
      node.hidden = false;
    });
    if (onWall) byId("wall-stage").hidden = true;
    byId("wr-idle").hidden = true;
    fitStage();
    renderHeader();
    drawIncident();
    hub.subscribe("incident." + data.id);
    ["cases", "alarms", "cameras"].forEach(function (topic) {
      if (!(topic in hub.filters)) hub.subscribe(topic); // the wall has them already
    });
    whenMapReady.then(loadLocal).catch(report_error);
    Core.api("/api/incidents/" + data.id).then(applyDetail).catch(report_error);
    Core.api("/api/incidents/" + data.id + "/nearby").then(applyNearby).catch(report_error);
  }

  function peacetime() {
    if (incident && hub) hub.unsubscribe("incident." + incident.id);
    incident = null;
    if (cameraTiles) cameraTiles.assign([]);
    nearbyCameras = [];
    document.body.setAttribute("data-mode", "peacetime");
    document.body.removeAttribute("data-incident");
    if (onWall) {
      byId("warroom-stage").hidden = true;
      byId("wall-stage").hidden = false;
      window.dispatchEvent(new Event("resize")); // the wall refits its stage and map
    } else {
      byId("wr-idle").hidden = false;
      byId("wr-title").textContent = "平时状态";
      byId("wr-meta").textContent = "";
    }
  }

  function report_error(error) {
    say(Core.describeError(error), true);
  }

  /* ---- header and elapsed time ---- */

  function renderHeader() {
    byId("wr-title").textContent = incident.title;
    byId("wr-meta").textContent = incident.level_label + " · 指挥长 " + incident.commander + " · 宣布于 " +
      Core.time(incident.declared_at, config.tz, "short") + (incident.case_number ? " · 案件 " + incident.case_number : "");
  }

  function tick() {
    if (!incident) return;
    var end = incident.stood_down_at ? Date.parse(incident.stood_down_at) : Date.now();
    var text = Core.countdown(end - Date.parse(incident.declared_at));
    byId("wr-elapsed").textContent = text;
  }

  /* ---- the map: centre, rings, workers, devices ---- */

  function drawIncident() {
    if (!map) return;
    var L = window.L;
    if (layers.rings) layers.rings.remove();
    layers.rings = L.layerGroup().addTo(map);
    // a renderer of their own above the basemap, which may finish loading after the rings are drawn
    layers.ringRenderer = layers.ringRenderer || L.canvas({ pane: Core.livePane(map) });
    incident.rings_m.forEach(function (r, i) {
      L.circle([incident.lat, incident.lon], {
        renderer: layers.ringRenderer, radius: r, color: RING_COLORS[i], weight: 4, dashArray: i ? "14 10" : null, fillColor: RING_COLORS[i],
        fillOpacity: i ? 0.03 : 0.08, interactive: false,
      }).addTo(layers.rings);
      L.marker([incident.lat + r / 111320, incident.lon], {
        interactive: false,
        icon: L.divIcon({ className: "wr-ring-label", html: ringName(r), iconSize: null }),
      }).addTo(layers.rings);
    });
    layers.centre.clear();
    layers.centre.set("centre", { lat: incident.lat, lon: incident.lon, color: "#ff2d55", r: 16, z: 9, pulse: true,
      stroke: "#ffffff" });
    var outer = incident.rings_m[incident.rings_m.length - 1];
    map.invalidateSize(false);
    map.fitBounds(L.latLng(incident.lat, incident.lon).toBounds(outer * 2.3));
    track({ topic: "positions", op: "subscribed" }); // load the live state; batches follow
    listsDue = true;
  }

  /* ---- nearby lists by ring (workers live; devices and resources from /nearby) ---- */

  function renderWorkers() {
    if (!incident || !layers.workers) return;
    var box = byId("wr-workers");
    var groups = {};
    incident.rings_m.forEach(function (r) {
      groups[r] = [];
    });
    layers.workers.ids().forEach(function (id) {
      var p = layers.workers.get(id);
      var d = Core.distance(incident.lat, incident.lon, p.lat, p.lon);
      var ring = ringOf(d);
      if (ring !== null) groups[ring].push({ id: id, d: d, state: p.state });
    });
    box.textContent = "";
    incident.rings_m.forEach(function (r, i) {
      var list = groups[r].sort(function (a, b) {
        return a.d - b.d;
      });
      var section = Core.el("section", "wr-ring");
      section.setAttribute("data-ring", r);
      var head = Core.el("h3", null, (i ? "" : "核心圈 ") + ringName(r) + " 内");
      head.style.color = RING_COLORS[i];
      head.appendChild(Core.el("b", "wr-count", String(list.length)));
      section.appendChild(head);
      var ol = Core.el("ol", "wr-people");
      list.slice(0, 40).forEach(function (w) {
        var li = Core.el("li", "st-" + w.state);
        li.setAttribute("data-worker-id", w.id);
        li.appendChild(Core.el("span", "name", names[w.id] || "人员 " + w.id));
        li.appendChild(Core.el("span", "state", Core.label(config, "worker", w.state)));
        li.appendChild(Core.el("span", "dist", Math.round(w.d) + " 米"));
        ol.appendChild(li);
      });
      section.appendChild(ol);
      box.appendChild(section);
    });
    var total = incident.rings_m.reduce(function (n, r) {
      return n + groups[r].length;
    }, 0);
    byId("wr-counts").textContent = "圈内人员 " + total;
  }

  var names = {};

  function applyNearby(found) {
    found.workers.forEach(function (w) {
      names[w.worker_id] = w.name || w.code;
    });
    var list = byId("wr-resources");
    list.textContent = "";
    layers.devices.clear();
    found.resources.forEach(function (r) {
      var li = Core.el("li", "res-" + r.kind);
      li.appendChild(Core.el("span", "kind", RESOURCE[r.kind] || r.kind));
      li.appendChild(Core.el("span", "name", r.name + (r.quantity ? " · " + r.quantity : "")));
      li.appendChild(Core.el("span", "dist", Math.round(r.distance_m) + " 米"));
      list.appendChild(li);
      layers.devices.set("r" + r.id, { lat: r.lat, lon: r.lon, color: "#3ddc97", r: 9, z: 2, stroke: "#06101f" });
    });
    found.sensors.forEach(function (s) {
      var li = Core.el("li", "res-sensor");
      li.appendChild(Core.el("span", "kind", Core.label(config, "sensor", s.type)));
      li.appendChild(Core.el("span", "name", s.name));
      li.appendChild(Core.el("span", "dist", Math.round(s.distance_m) + " 米"));
      list.appendChild(li);
      layers.devices.set("s" + s.id, { lat: s.lat, lon: s.lon, color: "#00e5ff", r: 7, z: 1, stroke: "#06101f" });
    });
    if (!list.children.length) list.appendChild(Core.el("li", "empty", "圈内暂无资源"));
    found.cameras.forEach(function (c) {
      layers.devices.set("c" + c.id, { lat: c.lat, lon: c.lon, color: "#b388ff", r: 8, z: 3, stroke: "#06101f" });
    });
    fillCameras(found.cameras.slice(0, 4));
    renderWorkers();
  }

  /* ---- camera tiles: the nearest cameras playing live (assets/camera-tiles.js) ---- */

  var cameraTiles = null;
  var nearbyCameras = [];

  function fillCameras(cameras) {
    nearbyCameras = cameras;
    if (!cameraTiles) {
      cameraTiles = window.CameraTiles.attach(byId("wr-cameras"), { api: Core.api, iceServers: config.ice_servers || [] },
        Core.onStatus);
      window.WarRoom.cameraTiles = cameraTiles;
      cameraTiles.players.forEach(function (player) {
        // in a conference, a click brings the tile's camera into the call
        player.tile.onclick = function () {
          if (callId && role !== "wall" && player.camera) pullCamera(player.camera);
        };
      });
    }
    // nearest first, but a playable camera before an offline one
    var ordered = cameras.filter(function (c) {
      return c.online;
    }).concat(cameras.filter(function (c) {
      return !c.online;
    }));
    cameraTiles.assign(ordered.slice(0, cameraTiles.players.length).map(function (c) {
      return Object.assign({}, c, { label: c.name + " · " + Math.round(c.distance_m) + " 米" });
    }));
  }

  function applyCameraEvent(data) {
    if (!incident || typeof data.online !== "boolean") return;
    var changed = false;
    var cameras = nearbyCameras.map(function (c) {
      if (c.id !== data.id) return c;
      changed = true;
      return Object.assign({}, c, { online: data.online, codec: data.codec || c.codec });
    });
    if (!changed && data.lat !== null && data.lat !== undefined) {
      var d = Core.distance(incident.lat, incident.lon, data.lat, data.lon);
      if (ringOf(d) === null) return;
      cameras = cameras.concat([Object.assign({}, data, { distance_m: d })]).sort(function (a, b) {
        return a.distance_m - b.distance_m;
      });
      changed = true;
    }
    if (changed) fillCameras(cameras);
  }

  /* ---- the incident's cases and alarms (inside the outer ring), live ---- */

  var localCases = new Map(); // id -> case
  var localAlarms = new Map(); // id -> alarm
  var localLoaded = null; // the incident whose snapshot is loaded

  function insideRings(lat, lon) {
    if (lat === null || lat === undefined || lon === null || lon === undefined) return null;
    var d = Core.distance(incident.lat, incident.lon, lat, lon);
    return ringOf(d) === null ? null : d;
  }

  function loadLocal() {
    var outer = incident.rings_m[incident.rings_m.length - 1];
    var dLat = outer / 111320;
    var dLon = outer / (111320 * Math.cos((incident.lat * Math.PI) / 180));
    var bbox = [incident.lon - dLon, incident.lat - dLat, incident.lon + dLon, incident.lat + dLat].map(function (v) {
      return v.toFixed(6);
    }).join(",");
    var open = config.open.map(function (s) {
      return "status=" + s;
    }).join("&");
    var id = incident.id;
    return Promise.all([
      Core.api("/api/cases?limit=500&bbox=" + bbox + "&" + open),
      Core.api("/api/alarms?state=raised&limit=500"),
      incident.case_id ? Core.api("/api/cases/" + incident.case_id).catch(function () {
        return null;
      }) : Promise.resolve(null),
    ]).then(function (answers) {
      if (!incident || incident.id !== id) return;
      localCases.clear();
      localAlarms.clear();
      layers.cases.clear();
      answers[0].items.forEach(applyLocalCase);
      if (answers[2]) applyLocalCase(answers[2]);
      answers[1].forEach(function (a) {
        applyLocalAlarm(a, "alarm.raised");
      });
      renderLocal();
      localLoaded = id;
      document.body.setAttribute("data-local-loaded", String(id));
    });
  }

  function applyLocalCase(c) {
    var own = c.id === incident.case_id;
    var d = insideRings(c.lat, c.lon);
    var old = localCases.get(c.id);
    if (old && old.version > c.version) return false;
    if ((d === null && !own) || (!own && config.open.indexOf(c.status) < 0)) {
      if (!old) return false;
      localCases.delete(c.id);
      if (layers.cases) layers.cases.remove(c.id);
      return true;
    }
    c.distance_m = d;
    localCases.set(c.id, c);
    if (layers.cases) layers.cases.set(c.id, Core.caseStyle(c, 1.4));
    return true;
  }

  function applyLocalAlarm(a, type) {
    if (type === "alarm.cleared" || a.state === "cleared") return localAlarms.delete(a.id);
    var old = localAlarms.get(a.id);
    var d = old ? old.distance_m : insideRings(a.lat, a.lon);
    if (d === null || d === undefined) return false;
    localAlarms.set(a.id, Object.assign({}, old, a, { distance_m: d }));
    return true;
  }

  function renderLocal() {
    var list = byId("wr-local");
    if (!list || !incident) return;
    list.textContent = "";
    var alarms = Array.from(localAlarms.values()).sort(function (a, b) {
      return (b.raised_at || "").localeCompare(a.raised_at || "");
    });
    alarms.forEach(function (a) {
      var li = Core.el("li", "wr-alarm alarm-" + (a.severity || "normal") + (a.state === "acknowledged" ? " acknowledged" : ""));
      li.setAttribute("data-alarm-id", a.id);
      li.appendChild(Core.el("span", "kind", Core.label(config, "alarm", a.kind)));
      li.appendChild(Core.el("span", "name", a.message || ""));
      li.appendChild(Core.el("span", "dist", Math.round(a.distance_m) + " 米"));
      list.appendChild(li);
    });
    var cases = Array.from(localCases.values()).sort(function (a, b) {
      var own = (b.id === incident.case_id) - (a.id === incident.case_id);
      return own || (Core.SEVERITY_RANK[b.severity] || 0) - (Core.SEVERITY_RANK[a.severity] || 0) ||
        (a.distance_m || 0) - (b.distance_m || 0);
    });
    cases.forEach(function (c) {
      var li = Core.el("li", "wr-case sev-" + c.severity + (c.id === incident.case_id ? " own" : ""));
      li.setAttribute("data-case-id", c.id);
      li.setAttribute("data-status", c.status);
      li.appendChild(Core.el("span", "kind", Core.label(config, "severity", c.severity)));
      li.appendChild(Core.el("span", "name", c.title));
      li.appendChild(Core.el("span", "state", Core.label(config, "status", c.status)));
      li.appendChild(Core.el("span", "dist", c.distance_m === null ? "" : Math.round(c.distance_m) + " 米"));
      list.appendChild(li);
    });
    if (!list.children.length) list.appendChild(Core.el("li", "empty", "圈内暂无案件与告警"));
    byId("wr-local-count").textContent = "案件 " + cases.length + " · 告警 " + alarms.length;
  }

  /* ---- broadcasts and their read receipts ---- */

  var broadcasts = new Map(); // id -> broadcast with receipts

  function applyBroadcasts(list) {
    broadcasts.clear();
    list.forEach(function (b) {
      broadcasts.set(b.id, b);
    });
    renderBroadcasts();
  }

  function markRead(broadcastId, workerId, at) {
    var b = broadcasts.get(broadcastId);
    if (!b) return false;
    b.receipts.forEach(function (r) {
      if (r.worker_id === workerId && !r.read_at) r.read_at = at;
    });
    b.read = b.receipts.filter(function (r) {
      return r.read_at;
    }).length;
    return true;
  }

  function renderBroadcasts() {
    var list = byId("wr-broadcasts");
    if (!list) return;
    list.textContent = "";
    Array.from(broadcasts.values()).sort(function (a, b) {
      return b.id - a.id;
    }).forEach(function (b) {
      var li = Core.el("li", "wr-bcast");
      li.setAttribute("data-broadcast-id", b.id);
      li.setAttribute("data-read", b.read);
      li.setAttribute("data-delivered", b.delivered);
      var head = Core.el("div", "bc-head");
      head.appendChild(Core.el("span", "time", Core.time(b.sent_at, config.tz)));
      head.appendChild(Core.el("span", "ring", ringName(b.ring_m) + " 内"));
      head.appendChild(Core.el("span", "text", b.text));
      head.appendChild(Core.el("b", "bc-count" + (b.read === b.delivered ? " all" : ""), "已读 " + b.read + "/" + b.delivered));
      li.appendChild(head);
      var who = Core.el("div", "bc-who");
      b.receipts.slice().sort(function (x, y) {
        return (y.read_at ? 1 : 0) - (x.read_at ? 1 : 0) || x.distance_m - y.distance_m;
      }).forEach(function (r) {
        var tag = Core.el("span", r.read_at ? "read" : "unread", (names[r.worker_id] || "人员 " + r.worker_id) +
          (r.read_at ? " ✓ " + Core.time(r.read_at, config.tz) : ""));
        tag.setAttribute("data-worker-id", r.worker_id);
        tag.setAttribute("data-read", r.read_at ? "1" : "0");
        who.appendChild(tag);
      });
      li.appendChild(who);
      list.appendChild(li);
    });
    if (!list.children.length) list.appendChild(Core.el("li", "empty", "尚未广播"));
  }

  /* ---- responders, timeline ---- */

  function applyDetail(detail) {
    if (!incident || detail.id !== incident.id) return;
    incident = Object.assign(incident, detail);
    renderResponders(detail.responders);
    applyBroadcasts(detail.broadcasts || []);
    byId("wr-timeline").textContent = "";
    detail.actions.forEach(addAction);
    fillRingChoice();
  }

  function fillRingChoice() {
    var select = byId("wr-ring");
    select.textContent = "";
    incident.rings_m.forEach(function (r) {
      var option = Core.el("option", null, ringName(r) + " 内");
      option.value = r;
      select.appendChild(option);
    });
  }

  function renderResponders(responders) {
    var list = byId("wr-responders");
    list.textContent = "";
    responders.forEach(function (r) {
      var state = r.arrived_at ? "arrived" : r.order_state;
      var li = Core.el("li", "ack-" + state);
      li.setAttribute("data-worker-id", r.worker_id);
      li.setAttribute("data-ack", state);
      li.appendChild(Core.el("span", "name", r.worker_name || r.worker_code));
      li.appendChild(Core.el("span", "dist", r.distance_m !== null ? Math.round(r.distance_m) + " 米" : ""));
      li.appendChild(Core.el("span", "state", r.arrived_at ? "已到达 " + Core.time(r.arrived_at, config.tz) : ORDER[r.order_state] || r.order_state));
      list.appendChild(li);
    });
    if (!responders.length) list.appendChild(Core.el("li", "empty", "尚未派遣"));
  }

  function addAction(a) {
    var list = byId("wr-timeline");
    if (list.querySelector('li[data-action-id="' + a.id + '"]')) return;
    var li = Core.el("li", "kind-" + a.kind);
    li.setAttribute("data-action-id", a.id);
    li.setAttribute("data-kind", a.kind);
    li.appendChild(Core.el("span", "time", Core.time(a.at, config.tz)));
    li.appendChild(Core.el("span", "kind", KINDS[a.kind] || a.kind));
    li.appendChild(Core.el("span", "who", a.actor.replace(/^[a-z]+:/, "")));
    li.appendChild(Core.el("span", "text", a.text || ""));
    list.insertBefore(li, list.firstChild);
  }

  /* ---- actions of the commander ---- */

  function act(path, body, done) {
    if (!incident) return;
    Core.api("/api/incidents/" + incident.id + path, { method: "POST", body: body })
      .then(function (answer) {
        if (done) done(answer);
      })
      .catch(report_error);
  }

  function wireActions() {
    byId("wr-dispatch").onclick = function () {
      act("/dispatch-nearest", { n: Number(byId("wr-n").value) || 1 }, function (answer) {
        say("已派遣 " + answer.orders.length + " 人，等待应答");
      });
    };
    byId("wr-broadcast").onclick = function () {
      act("/broadcast", { ring_m: Number(byId("wr-ring").value), text: byId("wr-text").value }, function (answer) {
        say("广播已送达 " + answer.delivered + " 人");
      });
    };
    byId("wr-add-note").onclick = function () {
      act("/notes", { text: byId("wr-note").value }, function () {
        say("已记录");
      });
    };
    byId("wr-stand-down").onclick = function () {
      act("/stand-down", {});
    };
    byId("wr-conference").onclick = openConference;
  }

  function openConference() {
    var invite = Array.prototype.map.call(document.querySelectorAll("#wr-responders li[data-worker-id]"), function (li) {
      return { worker_id: Number(li.getAttribute("data-worker-id")) };
    });
    Core.api("/api/calls", { method: "POST", body: { kind: "session", invite: invite, case_id: incident.case_id } })
      .then(function (call) {
        callId = (call.call && call.call.id) || call.id;
        act("/notes", { kind: "conference", text: "开启会商，邀请 " + invite.length + " 人", call_id: callId });
        say("会商已开启，点击视频可接入会商");
      })
      .catch(report_error);
  }

  function pullCamera(camera) {
    Core.api("/api/calls/" + callId + "/cameras", { method: "POST", body: { camera_id: camera.id } })
      .then(function () {
        act("/notes", { kind: "camera", text: "视频接入会商：" + camera.name, call_id: callId, camera_id: camera.id });
      })
      .catch(report_error);
  }

  /* ---- the report (/warroom/<id>/report) ---- */

  function download(format) {
    var token = Core.token();
    fetch("/api/incidents/" + incident.id + "/report?format=" + format, {
      headers: token ? { Authorization: "Bearer " + token } : {}, credentials: "same-origin",
    })
      .then(function (response) {
        return response.blob();
      })
      .then(function (blob) {
        var a = Core.el("a");
        a.href = URL.createObjectURL(blob);
        a.download = "incident-" + incident.id + "-report." + format;
        a.click();
      });
  }

  function table(headers, rows) {
    var t = Core.el("table", "wr-table");
    var tr = Core.el("tr");
    headers.forEach(function (h) {
      tr.appendChild(Core.el("th", null, h));
    });
    t.appendChild(tr);
    rows.forEach(function (row) {
      var r = Core.el("tr");
      row.forEach(function (cell) {
        r.appendChild(Core.el("td", null, cell === null || cell === undefined ? "—" : String(cell)));
      });
      t.appendChild(r);
    });
    return t;
  }

  function showReport(id) {
    Core.api("/api/incidents/" + id + "/report").then(function (data) {
      incident = data.incident;
      document.body.setAttribute("data-mode", "report");
      var box = byId("wr-report");
      box.hidden = false;
      box.textContent = "";
      byId("warroom-stage").classList.add("report-mode");
      renderHeader();
      tick();
      var s = data.stats;
      var links = Core.el("div", "wr-exports");
      ["csv", "xlsx", "pdf"].forEach(function (f) {
        var b = Core.el("button", "wr-btn", "导出 " + f.toUpperCase());
        b.onclick = function () {
          download(f);
        };
        links.appendChild(b);
      });
      box.appendChild(Core.el("h2", null, "事件报告 · " + incident.title));
      box.appendChild(links);
      box.appendChild(table(["派遣", "接单", "拒单", "到达", "平均应答(秒)", "平均到达(秒)", "P90到达(秒)", "最长到达(秒)"],
        [[s.dispatched, s.accepted, s.declined, s.arrived, s.acknowledgement.mean_s, s.arrival.mean_s, s.arrival.p90_s, s.arrival.max_s]]));
      box.appendChild(Core.el("h3", null, "出动人员"));
      box.appendChild(table(["姓名", "派遣时间", "状态", "应答时间", "到达时间", "到达用时(秒)"], data.responders.map(function (r) {
        return [r.worker_name, Core.time(r.dispatched_at, config.tz), ORDER[r.order_state] || r.order_state,
          r.acknowledged_at && Core.time(r.acknowledged_at, config.tz), r.arrived_at && Core.time(r.arrived_at, config.tz), r.arrival_s];
      })));
      box.appendChild(Core.el("h3", null, "行动时间线"));
      var timeline = table(["时间", "操作人", "动作", "内容"], data.timeline.map(function (a) {
        return [Core.time(a.at, config.tz), a.actor, KINDS[a.kind] || a.kind, a.text];
      }));
      timeline.id = "wr-report-timeline";
      box.appendChild(timeline);
    }).catch(report_error);
  }

  /* ---- hub events ---- */

  function onHub(message) {
    if (message.topic === "positions") {
      if (incident && track) {
        track(message);
        listsDue = true;
      }
      return;
    }
    if (message.topic === "incidents" && message.op === "subscribed" && mode === "follow") {
      Core.api("/api/incidents?state=declared&limit=1").then(function (list) {
        if (list.length && (!incident || incident.id !== list[0].id)) show(list[0]);
        else if (!list.length) peacetime();
      }).catch(function () {});
      return;
    }
    if (message.op === "subscribed" && !message.recovered && incident && localLoaded === incident.id &&
        (message.topic === "cases" || message.topic === "alarms")) {
      loadLocal().catch(function () {}); // events were lost (e.g. a server restart): take a fresh snapshot
      return;
    }
    if (message.op !== "event") return;
    var data = message.data || {};
    if (message.topic === "incidents" && mode === "follow") {
      if (message.type === "incident.declared") show(data);
      else if (message.type === "incident.stood_down" && incident && incident.id === data.id) peacetime();
    } else if (incident && message.topic === "cases") {
      if (applyLocalCase(data)) renderLocal();
    } else if (incident && message.topic === "alarms" && message.type.indexOf("alarm.") === 0) {
      if (applyLocalAlarm(data, message.type)) renderLocal();
    } else if (incident && message.topic === "cameras") {
      applyCameraEvent(data);
    } else if (incident && message.topic === "incident." + incident.id) {
      if (message.type === "incident.action") {
        addAction(data);
        if (data.kind === "broadcast_read" && markRead(data.data.broadcast, data.data.worker_id, data.at)) {
          renderBroadcasts();
        } else if (data.kind === "broadcast" || data.kind === "broadcast_read") {
          Core.api("/api/incidents/" + incident.id).then(function (d) {
            if (incident && d.id === incident.id) applyBroadcasts(d.broadcasts);
          }).catch(function () {});
        }
        if (["dispatch", "ack", "arrival"].indexOf(data.kind) >= 0) {
          Core.api("/api/incidents/" + incident.id).then(function (d) {
            renderResponders(d.responders);
          }).catch(function () {});
        }
      } else if (message.type === "incident.stood_down" && mode === "fixed") {
        incident.stood_down_at = data.stood_down_at;
        say("事件已解除战时");
      }
    }
  }

  function setUp(cfg, options) {
    Core = window.WallCore;
    config = cfg;
    onWall = options.onWall;
    window.addEventListener("resize", fitStage);
    setInterval(tick, 1000);
    setInterval(function () {
      if (listsDue) {
        listsDue = false;
        renderWorkers();
      }
    }, 1000);
    Core.api("/api/calls/config").then(function (c) {
      role = c.me && c.me.role;
      byId("wr-actions").hidden = role !== "commander" && role !== "admin";
    }).catch(function () {
      byId("wr-actions").hidden = true;
    });
    wireActions();
    whenMapReady = Core.whenMap("warroom-map").then(function (leaflet) {
      map = leaflet;
      var pane = Core.livePane(map);
      layers.devices = Core.pointLayer({ pane: pane }).addTo(map);
      layers.cases = Core.pointLayer({ pane: pane }).addTo(map);
      layers.workers = Core.pointLayer({ pane: pane }).addTo(map);
      layers.centre = Core.pointLayer({ pane: pane, pulseMs: 1600 }).addTo(map);
      track = Core.trackWorkers(layers.workers, 2.2);
      if (incident) drawIncident();
    });
    return Core.onHub(onHub).then(function (h) {
      hub = h;
      window.WarRoom.hub = h;
      return h;
    });
  }

  function follow(cfg) {
    var query = new URLSearchParams(window.location.search);
    if (query.get("follow") === "0") return;
    mode = "follow";
    setUp(cfg, { onWall: true }).then(function (h) {
      h.subscribe("incidents"); // its `subscribed` reply looks for a declared incident, else marks peacetime
    });
  }

  function page(cfg) {
    var match = window.location.pathname.match(/\/warroom\/(\d+)(\/report)?\/?$/);
    mode = match ? "fixed" : "follow";
    setUp(cfg, { onWall: false }).then(function (h) {
      if (match && match[2]) return showReport(Number(match[1]));
      h.subscribe("positions");
      if (match) {
        Core.api("/api/incidents/" + match[1]).then(show).catch(report_error);
      } else {
        peacetime();
        h.subscribe("incidents");
      }
    });
  }

  var started = false;
  window.WarRoom = {};
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    warroom: {
      follow: function (cfg) {
        if (!started && cfg) {
          started = true;
          follow(cfg);
        }
        return window.dash_clientside.no_update;
      },
      page: function (cfg) {
        if (!started && cfg) {
          started = true;
          page(cfg);
        }
        return window.dash_clientside.no_update;
      },
    },
  });
})();
