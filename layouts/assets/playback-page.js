/* Worker trail playback (/playback/): loads GET /api/workers/{id}/trail for a time range, draws the
 * track and moves a dot along it in simulated time (play, pause, speed, seek). */
(function () {
  "use strict";

  var Core;
  var config;
  var map;
  var workerId = null;
  var speed = 30;
  var track = []; // [{t, lat, lon}]
  var simT = 0; // simulated epoch ms
  var playing = false;
  var lastFrame = null;
  var line = null;
  var done = null;
  var dot = null;
  var progress = null;
  var started = false;

  function byId(id) {
    return document.getElementById(id);
  }

  function localInput(date) {
    var shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
    return shifted.toISOString().slice(0, 16);
  }

  function setError(text) {
    byId("play-error").textContent = text || "";
  }

  function load() {
    setError("");
    if (workerId === null || workerId === undefined) {
      setError("请先选择人员");
      return Promise.resolve();
    }
    var from = new Date(byId("play-from").value);
    var to = new Date(byId("play-to").value);
    if (isNaN(from) || isNaN(to) || from >= to) {
      setError("时间范围无效");
      return Promise.resolve();
    }
    var query = "?from=" + encodeURIComponent(from.toISOString()) + "&to=" + encodeURIComponent(to.toISOString()) + "&limit=20000";
    return Core.api("/api/workers/" + workerId + "/trail" + query)
      .then(function (points) {
        track = points.map(function (p) {
          return { t: Date.parse(p.at), lat: p.lat, lon: p.lon };
        });
        draw();
      })
      .catch(function (error) {
        setError("载入失败：" + Core.describeError(error));
      });
  }

  function distanceKm() {
    var total = 0;
    for (var i = 1; i < track.length; i++) total += map.distance([track[i - 1].lat, track[i - 1].lon], [track[i].lat, track[i].lon]);
    return total / 1000;
  }

  function draw() {
    pause();
    var latlngs = track.map(function (p) {
      return [p.lat, p.lon];
    });
    line.setLatLngs(latlngs);
    done.setLatLngs([]);
    var stats = byId("play-stats");
    if (!track.length) {
      dot.setStyle({ opacity: 0, fillOpacity: 0 });
      stats.textContent = "该时段没有轨迹点";
      document.body.setAttribute("data-trail-points", "0");
      return;
    }
    map.fitBounds(line.getBounds(), { padding: [60, 60], maxZoom: 17 });
    simT = track[0].t;
    dot.setStyle({ opacity: 1, fillOpacity: 1 });
    place();
    var minutes = (track[track.length - 1].t - track[0].t) / 60000;
    stats.textContent = "轨迹点 " + track.length + " 个 · 里程 " + distanceKm().toFixed(2) + " km · 时长 " + Math.round(minutes) + " 分钟";
    document.body.setAttribute("data-trail-points", String(track.length));
  }

  /* Index of the last point at or before simT (binary search). */
  function indexAt(t) {
    var lo = 0;
    var hi = track.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (track[mid].t <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function place() {
    if (!track.length) return;
    var i = indexAt(simT);
    var a = track[i];
    var b = track[Math.min(i + 1, track.length - 1)];
    var f = b.t > a.t ? Math.min(1, Math.max(0, (simT - a.t) / (b.t - a.t))) : 0;
    var here = [a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f];
    dot.setLatLng(here);
    done.setLatLngs(track.slice(0, i + 1).map(function (p) { return [p.lat, p.lon]; }).concat([here]));
    byId("play-clock").textContent = Core.time(new Date(simT), config.tz);
    var span = track[track.length - 1].t - track[0].t || 1;
    progress.value = String(Math.round(((simT - track[0].t) / span) * 1000));
  }

  function frame(now) {
    if (!playing) return;
    if (lastFrame !== null) simT += (now - lastFrame) * speed;
    lastFrame = now;
    var end = track[track.length - 1].t;
    if (simT >= end) {
      simT = end;
      place();
      pause();
      return;
    }
    place();
    requestAnimationFrame(frame);
  }

  function play() {
    if (!track.length || playing) return;
    if (simT >= track[track.length - 1].t) simT = track[0].t;
    playing = true;
    lastFrame = null;
    byId("play-toggle").textContent = "暂停";
    document.body.setAttribute("data-playing", "true");
    requestAnimationFrame(frame);
  }

  function pause() {
    playing = false;
    byId("play-toggle").textContent = "播放";
    document.body.setAttribute("data-playing", "false");
  }

  function start() {
    Core = window.WallCore;
    var now = new Date();
    byId("play-to").value = localInput(now);
    byId("play-from").value = localInput(new Date(now.getTime() - 2 * 3600 * 1000));
    progress = Core.el("input", "field");
    progress.type = "range";
    progress.min = "0";
    progress.max = "1000";
    progress.value = "0";
    progress.id = "play-progress";
    byId("play-progress-box").appendChild(progress);
    progress.addEventListener("input", function () {
      if (!track.length) return;
      var span = track[track.length - 1].t - track[0].t;
      simT = track[0].t + (Number(progress.value) / 1000) * span;
      place();
    });
    byId("play-load").addEventListener("click", load);
    byId("play-toggle").addEventListener("click", function () {
      if (playing) pause();
      else play();
    });
    byId("play-restart").addEventListener("click", function () {
      if (!track.length) return;
      simT = track[0].t;
      place();
      play();
    });
    Core.whenMap("playback-map").then(function (leaflet) {
      map = leaflet;
      map.fitBounds(config.bounds);
      var pane = Core.livePane(map);
      line = window.L.polyline([], { color: "#2f7bff", weight: 4, opacity: 0.6, pane: pane }).addTo(map);
      done = window.L.polyline([], { color: "#29d3ff", weight: 5, pane: pane }).addTo(map);
      dot = window.L.circleMarker(config.bounds[0], {
        radius: 10, color: "#ffffff", weight: 3, fillColor: "#ff2d55", fillOpacity: 0, opacity: 0, pane: pane,
      }).addTo(map);
      window.playbackPage.line = line;
      window.playbackPage.dot = dot;
    });
  }

  window.playbackPage = {
    state: function () {
      return { points: track.length, playing: playing, t: simT, drawn: line ? line.getLatLngs().length : 0 };
    },
  };
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    playback: {
      start: function (cfg) {
        if (!started && cfg) {
          started = true;
          config = cfg;
          start();
        }
        return window.dash_clientside.no_update;
      },
      speed: function (index) {
        if (config && index !== null && index !== undefined) speed = config.speeds[index] || speed;
        return window.dash_clientside.no_update;
      },
      worker: function (value) {
        workerId = value === undefined ? null : value;
        return window.dash_clientside.no_update;
      },
    },
  });
})();
