/* The command-hall wall (/wall/): every hub event is applied here, in the browser, without a server
 * round-trip: map layers (cases, workers, sensors, cameras), the live case feed, overdue countdowns,
 * alarms and live counters. After a reconnect the hub replays what was missed; when it cannot
 * (recovered:false, e.g. after a server restart) the page reloads a snapshot over HTTP. */
(function () {
  "use strict";

  var DESIGN_W = 3840;
  var DESIGN_H = 2160;
  var FEED_MAX = 40;
  var OVERDUE_MAX = 12;
  var ALARMS_MAX = 30;
  var WARN_AHEAD_MS = 2 * 3600 * 1000;

  var Core;
  var config;
  var options;
  var map;
  var layers = {};
  var cases = new Map(); // id -> case dict
  var streets = {};
  var sensors = new Map();
  var alarmedSensors = new Map(); // sensor id -> alarm count
  var loading = {}; // topic -> buffered events while its snapshot loads
  var streetCells = new Set(); // grid cells of the street filter
  var cameraList = [];
  var cameraTiles = null;
  var cameraTurn = 0;
  var started = false;

  function byId(id) {
    return document.getElementById(id);
  }

  /* ---- stage scaling and kiosk options ---- */

  function fitStage() {
    var stage = byId("wall-stage");
    if (!stage) return;
    var scale = Math.min(window.innerWidth / DESIGN_W, window.innerHeight / DESIGN_H);
    stage.style.width = window.innerWidth / scale + "px";
    stage.style.height = window.innerHeight / scale + "px";
    stage.style.transform = "scale(" + scale + ")";
    if (map) map.invalidateSize(false);
  }

  function applyPanels() {
    var page = document.querySelector(".wall-page");
    if (!options.panels) return;
    document.querySelectorAll("[data-panel]").forEach(function (node) {
      node.hidden = options.panels.indexOf(node.getAttribute("data-panel")) < 0;
    });
    var widths = { "col-left": "900px", "col-center": "minmax(0, 1fr)", "col-right": "980px" };
    var template = [];
    ["col-left", "col-center", "col-right"].forEach(function (name) {
      var column = document.querySelector("." + name);
      column.hidden = !column.querySelector("[data-panel]:not([hidden])");
      if (!column.hidden) template.push(widths[name]);
    });
    if (document.querySelector(".col-center").hidden) template = template.map(function () { return "minmax(0, 1fr)"; });
    document.querySelector(".wall-body").style.gridTemplateColumns = template.join(" ");
    page.classList.add("custom-panels");
  }

  function startRotation() {
    var rotators = document.querySelectorAll(".rotating");
    var index = 0;
    function show() {
      rotators.forEach(function (card) {
        var items = card.querySelectorAll(".rot");
        var tabs = card.querySelectorAll(".tab");
        var at = index % items.length;
        items.forEach(function (item, i) {
          item.classList.toggle("active", i === at);
        });
        tabs.forEach(function (tab, i) {
          tab.classList.toggle("active", i === at);
        });
      });
    }
    show();
    if (options.rotate > 0) {
      setInterval(function () {
        index++;
        show();
      }, options.rotate * 1000);
    }
  }

  /* ---- cases: map, feed, overdue list ---- */

  function visible(c) {
    return options.street === null || c.street_id === options.street;
  }

  function isOpen(c) {
    return config.open.indexOf(c.status) >= 0;
  }

  function newer(c, old) {
    if (!old) return true;
    if (c.version !== old.version) return c.version > old.version;
    return (c.updated_at || "") >= (old.updated_at || "");
  }

  function applyCase(c, type) {
    if (!visible(c)) return;
    var old = cases.get(c.id);
    if (!newer(c, old)) return;
    cases.set(c.id, c);
    if (isOpen(c)) layers.cases.set(c.id, Core.caseStyle(c, 1.6));
    else layers.cases.remove(c.id);
    var item = document.querySelector('#wall-feed li[data-case-id="' + c.id + '"]');
    if (item) fillFeedItem(item, c);
    else if (type === "case.created" || type === "snapshot") addFeedItem(c, type === "case.created");
  }

  function fillFeedItem(item, c) {
    item.className = "sev-" + c.severity + (item.classList.contains("fresh") ? " fresh" : "");
    item.querySelector(".sev").textContent = Core.label(config, "severity", c.severity);
    item.querySelector(".title").textContent = c.title;
    item.querySelector(".status").textContent = Core.label(config, "status", c.status);
    item.querySelector(".status").setAttribute("data-status", c.status);
  }

  function addFeedItem(c, fresh) {
    var feed = byId("wall-feed");
    var item = Core.el("li");
    item.setAttribute("data-case-id", c.id);
    var head = Core.el("div", "line1");
    head.appendChild(Core.el("span", "time", Core.time(c.created_at, config.tz)));
    head.appendChild(Core.el("span", "sev"));
    head.appendChild(Core.el("span", "title"));
    var meta = Core.el("div", "line2");
    meta.appendChild(Core.el("span", "source", Core.label(config, "source", c.source)));
    meta.appendChild(Core.el("span", "where", (streets[c.street_id] || "") + " " + (c.category || "")));
    meta.appendChild(Core.el("span", "status"));
    item.appendChild(head);
    item.appendChild(meta);
    fillFeedItem(item, c);
    // newest first: keep the list ordered by creation time
    var before = null;
    for (var node = feed.firstChild; node; node = node.nextSibling) {
      var other = cases.get(Number(node.getAttribute("data-case-id")));
      if (other && other.created_at <= c.created_at) {
        before = node;
        break;
      }
    }
    feed.insertBefore(item, before);
    if (fresh) {
      item.classList.add("fresh");
      setTimeout(function () {
        item.classList.remove("fresh");
      }, 6000);
    }
    while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
  }

  function loadCases() {
    var street = options.street !== null ? "&street=" + options.street : "";
    var open = config.open.map(function (s) {
      return "status=" + s;
    }).join("&");
    return Promise.all([
      Core.api("/api/cases?limit=1000&" + open + street),
      Core.api("/api/cases?limit=" + FEED_MAX + street),
    ]).then(function (answers) {
      var seen = {};
      answers[0].items.concat(answers[1].items).forEach(function (c) {
        seen[c.id] = true;
      });
      // cases no longer open and not in the feed window leave the map
      layers.cases.ids().forEach(function (id) {
        if (!seen[id]) {
          layers.cases.remove(id);
          cases.delete(id);
        }
      });
      answers[1].items.concat(answers[0].items).forEach(function (c) {
        var old = cases.get(c.id);
        if (old && !newer(c, old)) return;
        cases.delete(c.id);
        applyCase(c, "snapshot");
      });
    });
  }

  function renderOverdue() {
    var list = byId("wall-overdue");
    if (!list) return;
    var now = Date.now();
    var rows = [];
    cases.forEach(function (c) {
      if (!isOpen(c) || !c.deadline || c.status === "suspended") return;
      var left = Date.parse(c.deadline) - now;
      var late = c.sla_state === "overdue" || c.sla_state === "escalated" || left < 0;
      if (late || c.sla_state === "warning" || left < WARN_AHEAD_MS) rows.push({ c: c, left: left, late: late });
    });
    rows.sort(function (a, b) {
      return a.left - b.left;
    });
    list.textContent = "";
    rows.slice(0, OVERDUE_MAX).forEach(function (row) {
      var item = Core.el("li", row.late ? "late" : row.c.sla_state === "warning" ? "warn" : "soon");
      item.setAttribute("data-case-id", row.c.id);
      item.appendChild(Core.el("span", "countdown", Core.countdown(row.left)));
      item.appendChild(Core.el("span", "title", row.c.title));
      item.appendChild(Core.el("span", "stage", Core.label(config, "status", row.c.status)));
      list.appendChild(item);
    });
    if (!rows.length) list.appendChild(Core.el("li", "empty", "当前无超期或临期案件"));
  }

  /* ---- sensors, cameras, alarms ---- */

  function sensorStyle(sensor) {
    var alarmed = alarmedSensors.get(sensor.id) > 0;
    return {
      lat: sensor.lat, lon: sensor.lon, r: alarmed ? 11 : 7, z: alarmed ? 5 : 1,
      color: alarmed ? "#ff2d55" : sensor.online ? "#00e5ff" : "#44607f", stroke: "#06101f",
      pulse: alarmed, rank: alarmed ? 2 : 1,
    };
  }

  function cameraStyle(camera) {
    return { lat: camera.lat, lon: camera.lon, r: 7, z: 1, color: camera.online ? "#b388ff" : "#5b4d7a", stroke: "#06101f" };
  }

  function loadDevices() {
    return Promise.all([Core.api("/api/sensors"), Core.api("/api/cameras"), Core.api("/api/alarms?state=raised&limit=" + ALARMS_MAX)])
      .then(function (answers) {
        alarmedSensors.clear();
        answers[2].forEach(function (a) {
          if (a.sensor_id) alarmedSensors.set(a.sensor_id, (alarmedSensors.get(a.sensor_id) || 0) + 1);
        });
        layers.sensors.clear();
        answers[0].forEach(function (s) {
          sensors.set(s.id, s);
          layers.sensors.set(s.id, sensorStyle(s));
        });
        layers.cameras.clear();
        answers[1].forEach(function (camera) {
          if (camera.lat !== null) layers.cameras.set(camera.id, cameraStyle(camera));
        });
        fillCameraTiles(answers[1]);
        var list = byId("wall-alarms");
        list.textContent = "";
        answers[2].slice().reverse().forEach(addAlarm);
        if (!answers[2].length) list.appendChild(Core.el("li", "empty", "暂无未处理告警"));
      });
  }

  /* Camera tiles (assets/camera-tiles.js): online cameras first, each tile playing live over WebRTC. */
  function fillCameraTiles(list) {
    cameraList = list;
    if (!cameraTiles) return;
    var n = cameraTiles.players.length;
    var online = list.filter(function (c) {
      return c.online;
    });
    if (online.length > n) {
      // kiosk option camrotate: the next page of online cameras every few seconds
      var first = (cameraTurn * n) % online.length;
      online = online.slice(first).concat(online.slice(0, first));
    }
    cameraTiles.assign(online.concat(list.filter(function (c) {
      return !c.online;
    })).slice(0, n));
  }

  function rotateCameras() {
    var value = new URLSearchParams(window.location.search).get("camrotate");
    if (value === null || !/^\d+$/.test(value) || Number(value) === 0) return;
    setInterval(function () {
      cameraTurn++;
      fillCameraTiles(cameraList);
    }, Math.max(5, Number(value)) * 1000);
  }

  function startCameraTiles() {
    var strip = byId("wall-cameras");
    var panel = strip && strip.closest("[data-panel]");
    if (!strip || (panel && panel.hidden)) return;
    cameraTiles = window.CameraTiles.attach(strip, { api: Core.api, iceServers: config.ice_servers || [] }, Core.onStatus);
    window.wallPage.cameraTiles = cameraTiles;
    // the war room takes over the screen in-page: its own tiles play then, these pause
    var stage = byId("wall-stage");
    new MutationObserver(function () {
      cameraTiles.pause(stage.hidden);
    }).observe(stage, { attributes: true, attributeFilter: ["hidden"] });
    fillCameraTiles(cameraList);
    rotateCameras();
  }

  function addAlarm(alarm) {
    var list = byId("wall-alarms");
    if (!list) return;
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var item = Core.el("li", "alarm-" + (alarm.severity || "normal"));
    item.setAttribute("data-alarm-id", alarm.id || "");
    item.appendChild(Core.el("span", "time", Core.time(alarm.raised_at || alarm.at || new Date(), config.tz)));
    item.appendChild(Core.el("span", "kind", Core.label(config, "alarm", alarm.kind)));
    item.appendChild(Core.el("span", "message", alarm.message || alarm.name || ""));
    list.insertBefore(item, list.firstChild);
    while (list.children.length > ALARMS_MAX) list.removeChild(list.lastChild);
  }

  function applyAlarmEvent(event) {
    var data = event.data || {};
    if (event.type === "alarm.raised") {
      addAlarm(data);
      if (data.sensor_id) alarmedSensors.set(data.sensor_id, (alarmedSensors.get(data.sensor_id) || 0) + 1);
    } else if (event.type === "alarm.cleared" || event.type === "alarm.acknowledged") {
      var item = document.querySelector('#wall-alarms li[data-alarm-id="' + data.id + '"]');
      if (item && event.type === "alarm.cleared") item.remove();
      if (item && event.type === "alarm.acknowledged") item.classList.add("acknowledged");
      if (data.sensor_id && event.type === "alarm.cleared") {
        alarmedSensors.set(data.sensor_id, Math.max(0, (alarmedSensors.get(data.sensor_id) || 1) - 1));
      }
    } else if (event.type.indexOf("geofence.") === 0) {
      addAlarm({ kind: event.type, message: (data.name || "") + " · 人员 " + data.worker_id, at: data.at });
    }
    if (data.sensor_id && sensors.has(data.sensor_id)) {
      layers.sensors.set(data.sensor_id, sensorStyle(sensors.get(data.sensor_id)));
    }
  }

  function applyCameraEvent(event) {
    var data = event.data || {};
    var id = data.id || data.camera_id;
    var point = layers.cameras.get(id);
    if (point && typeof data.online === "boolean") {
      // set() again (not a change in place): the layer keys its cached marker sprite on the style
      layers.cameras.set(id, Object.assign(point, { color: data.online ? "#b388ff" : "#5b4d7a" }));
    }
    if (event.type === "camera.stream" || typeof data.online !== "boolean") return;
    var known = false;
    var list = cameraList.map(function (c) {
      if (c.id !== id) return c;
      known = true;
      return Object.assign({}, c, data);
    });
    if (!known && data.id) list.push(data);
    if (!known && data.lat !== null && data.lat !== undefined) layers.cameras.set(id, cameraStyle(data));
    fillCameraTiles(list);
  }

  /* ---- counters, legend, clock ---- */

  function renderCounters() {
    var counts = { on_duty: 0, busy: 0, off_duty: 0, offline: 0 };
    var workers = 0;
    layers.workers.ids().forEach(function (id) {
      var state = layers.workers.get(id).state;
      counts[state] = (counts[state] || 0) + 1;
      workers++;
    });
    var severities = { major: 0, high: 0, normal: 0, low: 0 };
    var open = 0;
    cases.forEach(function (c) {
      if (!isOpen(c)) return;
      open++;
      severities[c.severity] = (severities[c.severity] || 0) + 1;
    });
    var box = byId("map-counters");
    box.textContent = "";
    function group(title, entries) {
      var g = Core.el("div", "counter-group");
      g.appendChild(Core.el("span", "counter-title", title));
      entries.forEach(function (e) {
        var item = Core.el("span", "counter");
        var dot = Core.el("i", "dot");
        dot.style.background = e.color;
        item.appendChild(dot);
        item.appendChild(Core.el("span", "counter-name", e.name));
        var n = Core.el("b", null, String(e.n));
        n.setAttribute("data-count", e.key);
        item.appendChild(n);
        g.appendChild(item);
      });
      box.appendChild(g);
    }
    group("在办案件 " + open, ["major", "high", "normal", "low"].map(function (s) {
      return { key: "case-" + s, name: Core.label(config, "severity", s), n: severities[s], color: Core.SEVERITY[s].color };
    }));
    group("人员 " + workers, ["on_duty", "busy", "off_duty", "offline"].map(function (s) {
      return { key: "worker-" + s, name: Core.label(config, "worker", s), n: counts[s], color: Core.WORKER[s].color };
    }));
  }

  function renderLegend() {
    var legend = byId("map-legend");
    legend.textContent = "";
    [["#00e5ff", "感知设备"], ["#ff2d55", "设备告警"], ["#b388ff", "视频监控"]].forEach(function (entry) {
      var item = Core.el("span", "legend-item");
      var dot = Core.el("i", "dot");
      dot.style.background = entry[0];
      item.appendChild(dot);
      item.appendChild(document.createTextNode(entry[1]));
      legend.appendChild(item);
    });
  }

  function tickClock() {
    var now = new Date();
    byId("wall-clock").textContent = Core.time(now, config.tz);
    byId("wall-date").textContent = Core.time(now, config.tz, "date");
  }

  function addStreetLabels() {
    return fetch("assets/basemap/streets.geojson")
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        data.features.forEach(function (feature) {
          var ring = feature.geometry.coordinates[0];
          var lat = 0;
          var lon = 0;
          ring.forEach(function (p) {
            lon += p[0];
            lat += p[1];
          });
          window.L.marker([lat / ring.length, lon / ring.length], {
            interactive: false,
            keyboard: false,
            icon: window.L.divIcon({ className: "street-label", html: feature.properties.name, iconSize: null }),
          }).addTo(map);
        });
      });
  }

  /* ---- the hub ---- */

  var trackWorkers = null;

  function onHub(message) {
    trackWorkers(message);
    if (message.op === "subscribed" && !message.recovered) {
      reload(message.topic);
      return;
    }
    if (message.op !== "event") return;
    if (loading[message.topic]) {
      loading[message.topic].push(message);
      return;
    }
    dispatch(message);
  }

  function dispatch(message) {
    if (message.topic === "cases") applyCase(message.data, message.type);
    else if (message.topic === "alarms") applyAlarmEvent(message);
    else if (message.topic === "cameras") applyCameraEvent(message);
    else if (message.topic === "sensors" && message.data && sensors.has(message.data.sensor_id)) {
      var s = sensors.get(message.data.sensor_id);
      s.last_value = message.data.value;
      s.online = true;
    }
  }

  var loaders = {
    cases: loadCases,
    alarms: loadDevices,
  };

  function reload(topic) {
    var load = loaders[topic];
    if (!load || loading[topic]) return;
    loading[topic] = [];
    load()
      .catch(function (error) {
        console.warn("wall: snapshot of " + topic + " failed", error);
      })
      .then(function () {
        var buffered = loading[topic] || [];
        delete loading[topic];
        buffered.forEach(dispatch);
        document.body.setAttribute("data-loaded-" + topic, String(Date.now()));
      });
  }

  function connect() {
    Core.onHub(onHub).then(function (hub) {
      window.wallPage.hub = hub;
      hub.subscribe("cases");
      hub.subscribe("alarms");
      hub.subscribe("cameras");
      hub.subscribe("sensors");
      hub.subscribe("positions", options.street !== null ? { street_id: options.street } : null);
    });
  }

  function start() {
    Core = window.WallCore;
    options = Core.kioskOptions();
    applyPanels();
    startCameraTiles();
    fitStage();
    window.addEventListener("resize", fitStage);
    startRotation();
    tickClock();
    setInterval(tickClock, 1000);
    Core.api("/api/streets")
      .then(function (list) {
        list.forEach(function (s) {
          streets[s.id] = s.name;
        });
        if (options.street !== null) byId("wall-filter").textContent = "筛选：" + (streets[options.street] || options.street);
      })
      .catch(function () {});
    Core.whenMap("wall-map").then(function (leaflet) {
      map = leaflet;
      fitStage();
      map.fitBounds(config.bounds, { padding: [40, 40] });
      var pane = Core.livePane(map);
      // the wall never pans: canvases just cover the map (less to rasterise per redraw)
      var base = { pane: pane, clusterBelowZoom: 12.5, padding: 0.02 };
      layers.sensors = Core.pointLayer(base).addTo(map);
      layers.cameras = Core.pointLayer(base).addTo(map);
      layers.workers = Core.pointLayer(Object.assign({}, base, { clusterPx: 90 })).addTo(map);
      layers.cases = Core.pointLayer(Object.assign({}, base, { clusterPx: 70, font: "bold 26px sans-serif" })).addTo(map);
      window.wallPage.layers = layers;
      trackWorkers = Core.trackWorkers(layers.workers, 1.5, options.street === null ? null : function (w) {
        return streetCells.has(w.grid_id);
      });
      renderLegend();
      addStreetLabels().catch(function () {});
      var cells = options.street === null ? Promise.resolve() : Core.api("/api/grid.geojson").then(function (grid) {
        grid.features.forEach(function (f) {
          if (f.properties.street_id === options.street) streetCells.add(f.id);
        });
      });
      cells.catch(function () {}).then(connect);
      setInterval(renderOverdue, 1000);
      setInterval(renderCounters, 1000);
    });
  }

  window.wallPage = { cases: cases, layers: layers };
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wall: {
      /* The token and street filter the statistics callback needs (server side checks the token). */
      auth: function () {
        var opts = window.WallCore.kioskOptions();
        return { token: window.WallCore.token(), street: opts.street };
      },
      start: function (cfg) {
        if (!started && cfg) {
          started = true;
          config = cfg;
          start();
        }
        return window.dash_clientside.no_update;
      },
    },
  });
})();
