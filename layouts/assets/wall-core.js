/* Shared browser code of the Dash pages (window.WallCore): the page token, API calls, hub listeners,
 * the Leaflet map dash-leaflet creates, a canvas point layer with clustering and pulsing, formatting.
 * Page scripts (wall-page.js, console-page.js, playback-page.js) use it when Dash starts them. */
(function () {
  "use strict";

  var Core = {};
  var maps = {};
  var mapWaiters = {};
  var hubListeners = [];
  var statusListeners = [];
  var hubPromise = null;

  /* ---- credentials and the API ---- */

  Core.token = function () {
    var fromUrl = new URLSearchParams(window.location.search).get("token");
    if (fromUrl) return fromUrl;
    try {
      return window.localStorage.getItem("wallToken");
    } catch (err) {
      return null;
    }
  };

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  /* fetch JSON from the API with the page's credentials; rejects with err.status/code/detail. */
  Core.api = function (path, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    var token = Core.token();
    if (token) headers.Authorization = "Bearer " + token;
    var init = { method: options.method || "GET", headers: headers, credentials: "same-origin" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (init.method !== "GET" && cookie("csrftoken")) headers["X-CSRFToken"] = cookie("csrftoken");
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (err) {
          data = null;
        }
        if (!response.ok) {
          var error = new Error((data && data.error) || "HTTP " + response.status);
          error.status = response.status;
          error.code = (data && data.error) || "http_" + response.status;
          error.detail = data && data.detail;
          throw error;
        }
        return data;
      });
    });
  };

  Core.describeError = function (error) {
    var detail = error.detail;
    if (detail && typeof detail === "object") {
      detail = Object.keys(detail)
        .map(function (key) {
          return key + ": " + (typeof detail[key] === "string" ? detail[key] : JSON.stringify(detail[key]));
        })
        .join("；");
    }
    return (error.status ? error.status + " " : "") + (error.code || error.message) + (detail ? " — " + detail : "");
  };

  /* ---- the shared hub client of hub.js ---- */

  function whenHub() {
    if (hubPromise) return hubPromise;
    hubPromise = new Promise(function (resolve) {
      (function poll() {
        var hub = window.wallHub;
        if (!hub) return setTimeout(poll, 50);
        var deliver = function (message) {
          for (var i = 0; i < hubListeners.length; i++) hubListeners[i](message);
        };
        // hub.js broadcasts every message as a "wallhub:message" event; older versions only call onMessage
        if (hub.broadcast) {
          window.addEventListener("wallhub:message", function (event) {
            deliver(event.detail);
          });
        } else {
          hub.onMessage = deliver;
        }
        var showStatus = hub.onStatus;
        hub.onStatus = function (status) {
          showStatus(status);
          for (var i = 0; i < statusListeners.length; i++) statusListeners[i](status);
        };
        resolve(hub);
      })();
    });
    return hubPromise;
  }

  /* Call fn with every hub message; resolves to the hub once hub.js has started it. */
  Core.onHub = function (fn) {
    hubListeners.push(fn);
    return whenHub();
  };

  Core.onStatus = function (fn) {
    statusListeners.push(fn);
  };

  /* ---- the Leaflet maps dash-leaflet creates ---- */

  function containerId(map) {
    for (var node = map.getContainer(); node; node = node.parentElement) if (node.id) return node.id;
    return null;
  }

  function hookLeaflet() {
    if (!window.L || window.L.__wallHooked) return;
    window.L.__wallHooked = true;
    window.L.Map.addInitHook(function () {
      var map = this;
      var id = containerId(map);
      maps[id] = map;
      (mapWaiters[id] || []).forEach(function (resolve) {
        resolve(map);
      });
      delete mapWaiters[id];
    });
  }
  hookLeaflet();
  document.addEventListener("DOMContentLoaded", hookLeaflet);

  /* Resolves to the Leaflet map whose container (or an ancestor) has this id. */
  Core.whenMap = function (id) {
    hookLeaflet();
    if (maps[id]) return Promise.resolve(maps[id]);
    return new Promise(function (resolve) {
      (mapWaiters[id] = mapWaiters[id] || []).push(resolve);
    });
  };

  /* ---- a canvas layer of circle markers: thousands of moving points, clusters, pulses ---- */

  var PointLayer = null;
  var pulseClocks = {}; // pulse fps -> {timer, layers due for their next pulse frame}

  /* Redraw a pulsing layer on its next pulse tick. Every layer pulsing at the same rate shares the tick, so
   * their redraws land in one animation frame (one commit of the page's canvases, not one per layer). */
  function pulseLater(layer) {
    var fps = layer.options.pulseFps;
    var clock = pulseClocks[fps] || (pulseClocks[fps] = { timer: null, layers: new Set() });
    clock.layers.add(layer);
    if (clock.timer) return;
    clock.timer = setTimeout(function () {
      var due = Array.from(clock.layers);
      clock.timer = null;
      clock.layers.clear();
      for (var i = 0; i < due.length; i++) due[i].redraw();
    }, 1000 / fps);
  }

  /* How many screen pixels one CSS pixel of this element covers (the wall scales its whole stage with a
   * CSS transform): the layer's canvas is backed at that resolution, not more. */
  function screenScale(element) {
    var rendered = element.getBoundingClientRect().width;
    return element.offsetWidth && rendered ? Math.max(0.1, rendered / element.offsetWidth) : 1;
  }

  function definePointLayer() {
    var L = window.L;
    return L.Layer.extend({
      options: {
        pane: "overlayPane",
        padding: 0.15,
        clusterBelowZoom: null, // cluster when the map zoom is below this
        clusterPx: 80,
        hitPx: 14,
        font: "bold 22px sans-serif",
        pulseMs: 1400,
        pulseFps: 20,
        pixelsFrom: 400, // from this many markers on screen, composite them in a pixel buffer (see _blitPixels)
      },

      initialize: function (options) {
        L.setOptions(this, options);
        this._points = new Map();
        this._frame = null;
        this._pulsing = 0;
      },

      onAdd: function (map) {
        this._canvas = L.DomUtil.create("canvas", "wall-points");
        this._canvas.style.pointerEvents = "none";
        map.getPane(this.options.pane).appendChild(this._canvas);
        this._ctx = this._canvas.getContext("2d");
        map.on("moveend zoomend resize viewreset", this._reset, this);
        if (this.options.onClick) map.on("click", this._click, this);
        // a new screen scale (the wall's stage transform) needs a new canvas resolution, even at the same map size
        this._onWindowResize = L.bind(this._reset, this);
        window.addEventListener("resize", this._onWindowResize);
        this._reset();
      },

      onRemove: function (map) {
        map.off("moveend zoomend resize viewreset", this._reset, this);
        map.off("click", this._click, this);
        window.removeEventListener("resize", this._onWindowResize);
        L.DomUtil.remove(this._canvas);
        if (this._frame) cancelAnimationFrame(this._frame);
        this._frame = null;
        for (var fps in pulseClocks) pulseClocks[fps].layers.delete(this);
      },

      /* p: {lat, lon, color, r, z (draw order), pulse, stroke, rank (cluster colour priority)} */
      set: function (id, p) {
        var old = this._points.get(id);
        if (old && old.pulse) this._pulsing--;
        if (p.pulse) this._pulsing++;
        p.id = id;
        p._zoom = null;
        p._key = null;
        this._points.set(id, p);
        this.redraw();
        return p;
      },

      move: function (id, lat, lon, style) {
        var p = this._points.get(id);
        if (!p) return this.set(id, Object.assign({ lat: lat, lon: lon }, style));
        if (p.lat !== lat || p.lon !== lon) {
          p.lat = lat;
          p.lon = lon;
          p._zoom = null;
        }
        if (style && p._style !== style) {
          Object.assign(p, style);
          p._style = style;
          p._key = null;
        }
        this.redraw();
        return p;
      },

      remove: function (id) {
        var p = this._points.get(id);
        if (!p) return;
        if (p.pulse) this._pulsing--;
        this._points.delete(id);
        this.redraw();
      },

      clear: function () {
        this._points.clear();
        this._pulsing = 0;
        this.redraw();
      },

      has: function (id) {
        return this._points.has(id);
      },

      get: function (id) {
        return this._points.get(id);
      },

      ids: function () {
        return Array.from(this._points.keys());
      },

      size: function () {
        return this._points.size;
      },

      redraw: function () {
        var self = this;
        if (this._frame || !this._map) return;
        this._frame = requestAnimationFrame(function (time) {
          self._frame = null;
          self._draw(time);
        });
      },

      _reset: function () {
        var map = this._map;
        if (!map) return;
        var size = map.getSize();
        var pad = size.multiplyBy(this.options.padding).round();
        var topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
        var ratio = (window.devicePixelRatio || 1) * screenScale(map.getContainer());
        this._width = size.x + 2 * pad.x;
        this._height = size.y + 2 * pad.y;
        this._topLeft = topLeft;
        L.DomUtil.setPosition(this._canvas, topLeft);
        this._canvas.width = Math.max(1, Math.round(this._width * ratio));
        this._canvas.height = Math.max(1, Math.round(this._height * ratio));
        this._canvas.style.width = this._width + "px";
        this._canvas.style.height = this._height + "px";
        this._ratio = ratio;
        this._draw(performance.now());
      },

      _project: function (p, zoom) {
        if (p._zoom !== zoom) {
          var pt = this._map.project([p.lat, p.lon], zoom);
          p._x = pt.x;
          p._y = pt.y;
          p._zoom = zoom;
        }
      },

      _draw: function (time) {
        var map = this._map;
        if (!map || !this._topLeft) return;
        var ctx = this._ctx;
        var zoom = map.getZoom();
        var origin = map.getPixelOrigin();
        var ox = origin.x + this._topLeft.x;
        var oy = origin.y + this._topLeft.y;
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, this._canvas.width, this._canvas.height);
        var clustering = this.options.clusterBelowZoom !== null && zoom < this.options.clusterBelowZoom;
        // reused from frame to frame: thousands of points redrawn every second allocate nothing here
        var singles = this._singles || (this._singles = []);
        singles.length = 0;
        var clusters = clustering ? new Map() : null;
        var w = this._width;
        var h = this._height;
        var cell = this.options.clusterPx;
        var self = this;
        this._points.forEach(function (p) {
          self._project(p, zoom);
          var x = p._x - ox;
          var y = p._y - oy;
          if (x < -20 || y < -20 || x > w + 20 || y > h + 20) return;
          p._cx = x;
          p._cy = y;
          if (!clustering) {
            singles.push(p);
            return;
          }
          var key = Math.floor(p._x / cell) + ":" + Math.floor(p._y / cell);
          var bucket = clusters.get(key);
          if (!bucket) clusters.set(key, (bucket = { n: 0, sx: 0, sy: 0, top: p, members: [] }));
          bucket.n++;
          bucket.sx += x;
          bucket.sy += y;
          bucket.members.push(p);
          if ((p.rank || 0) > (bucket.top.rank || 0)) bucket.top = p;
        });
        var drawnClusters = [];
        if (clustering) {
          clusters.forEach(function (bucket) {
            if (bucket.n === 1) singles.push(bucket.top);
            else drawnClusters.push(bucket);
          });
        }
        this._drawSingles(ctx, singles, time);
        ctx.setTransform(this._ratio, 0, 0, this._ratio, 0, 0);
        this._drawClusters(ctx, drawnClusters, time);
        this._drawn = singles;
        if (this._pulsing > 0) pulseLater(this);
      },

      /* The style group of a point (same look, same sprite), created the first time the style is seen. */
      _group: function (p) {
        var key = p._key || (p._key = (p.z || 0) + "|" + p.color + "|" + (p.r || 5) + "|" + (p.stroke || ""));
        var groups = this._groups || (this._groups = { byKey: {}, order: [] });
        var group = groups.byKey[key];
        if (!group) {
          group = groups.byKey[key] = { key: key, z: p.z || 0, color: p.color, r: p.r || 5, stroke: p.stroke, list: [], pulsing: [] };
          groups.order.push(group);
          groups.order.sort(function (a, b) {
            return a.z - b.z;
          });
        }
        return group;
      },

      /* Markers by style group in z order: a pre-rendered sprite per style, copied to whole device pixels
       * (a plain blit, no resampling: cheap on a software canvas), one stroke per group for the pulses. */
      _drawSingles: function (ctx, points, time) {
        var order = this._groups ? this._groups.order : [];
        var k;
        for (k = 0; k < order.length; k++) order[k].list.length = order[k].pulsing.length = 0;
        for (var i = 0; i < points.length; i++) {
          var p = points[i];
          var group = this._group(p);
          group.list.push(p);
          if (p.pulse) group.pulsing.push(p);
        }
        order = this._groups ? this._groups.order : [];
        var ratio = this._ratio;
        if (points.length >= this.options.pixelsFrom && !this._pulsing) {
          this._blitPixels(ctx, order, ratio);
          return;
        }
        for (k = 0; k < order.length; k++) {
          var list = order[k].list;
          if (!list.length) continue;
          var sprite = this._sprite(order[k], ratio);
          var half = sprite.width / 2;
          for (var j = 0; j < list.length; j++) {
            ctx.drawImage(sprite, Math.round(list[j]._cx * ratio - half), Math.round(list[j]._cy * ratio - half));
          }
          if (order[k].pulsing.length) this._drawPulses(ctx, order[k], (time % this.options.pulseMs) / this.options.pulseMs);
        }
      },

      /* The same sprites at the same whole device pixels, composited in JS into one reused pixel buffer
       * and put on the canvas at once: thousands of drawImage calls cost more per call than the pixels. */
      _blitPixels: function (ctx, order, ratio) {
        var W = this._canvas.width;
        var H = this._canvas.height;
        var image = this._image;
        if (!image || image.width !== W || image.height !== H) {
          image = this._image = ctx.createImageData(W, H);
          this._image32 = new Uint32Array(image.data.buffer);
        }
        var d8 = image.data;
        var d32 = this._image32;
        d32.fill(0);
        for (var k = 0; k < order.length; k++) {
          var list = order[k].list;
          if (!list.length) continue;
          this._sprite(order[k], ratio);
          var sprite = this._sprites[order[k].key];
          var n = sprite.canvas.width;
          var s8 = sprite.pixels;
          var s32 = sprite.pixels32;
          for (var j = 0; j < list.length; j++) {
            var x0 = Math.round(list[j]._cx * ratio - n / 2);
            var y0 = Math.round(list[j]._cy * ratio - n / 2);
            var xFrom = Math.max(0, -x0);
            var xTo = Math.min(n, W - x0);
            var yTo = Math.min(n, H - y0);
            for (var y = Math.max(0, -y0); y < yTo; y++) {
              var row = (y0 + y) * W + x0;
              var srow = y * n;
              for (var x = xFrom; x < xTo; x++) {
                var sa = s8[(srow + x) * 4 + 3];
                if (sa === 0) continue;
                var da = d8[(row + x) * 4 + 3];
                if (sa === 255 || da === 0) {
                  d32[row + x] = s32[srow + x];
                  continue;
                }
                // source-over on straight (not premultiplied) RGBA, as the canvas would blend the sprite's edge
                var si = (srow + x) * 4;
                var di = (row + x) * 4;
                var under = da * (255 - sa) / 255;
                var out = sa + under;
                d8[di] = (s8[si] * sa + d8[di] * under) / out;
                d8[di + 1] = (s8[si + 1] * sa + d8[di + 1] * under) / out;
                d8[di + 2] = (s8[si + 2] * sa + d8[di + 2] * under) / out;
                d8[di + 3] = out;
              }
            }
          }
        }
        ctx.putImageData(image, 0, 0);
      },

      /* The expanding, fading ring of a group's pulsing points, above the group's markers. */
      _drawPulses: function (ctx, g, phase) {
        var ring = g.r * (1 + 2.2 * phase);
        ctx.setTransform(this._ratio, 0, 0, this._ratio, 0, 0);
        ctx.beginPath();
        for (var m = 0; m < g.pulsing.length; m++) {
          ctx.moveTo(g.pulsing[m]._cx + ring, g.pulsing[m]._cy);
          ctx.arc(g.pulsing[m]._cx, g.pulsing[m]._cy, ring, 0, 2 * Math.PI);
        }
        ctx.globalAlpha = 1 - phase;
        ctx.lineWidth = Math.max(2, g.r / 2.5);
        ctx.strokeStyle = g.color;
        ctx.stroke();
        ctx.globalAlpha = 1;
        ctx.setTransform(1, 0, 0, 1, 0, 0);
      },

      /* A pre-rendered marker per style at the canvas's device-pixel ratio, centred in its square. */
      _sprite: function (g, ratio) {
        this._sprites = this._sprites || {};
        var cached = this._sprites[g.key];
        if (cached && cached.ratio === ratio) return cached.canvas;
        var line = g.stroke ? Math.max(1, g.r / 4) : 0;
        var size = Math.ceil(((g.r + line) * 2 + 2) * ratio);
        var canvas = document.createElement("canvas");
        canvas.width = canvas.height = size;
        var c = canvas.getContext("2d");
        c.beginPath();
        c.arc(size / 2, size / 2, g.r * ratio, 0, 2 * Math.PI);
        c.fillStyle = g.color;
        c.fill();
        if (g.stroke) {
          c.lineWidth = line * ratio;
          c.strokeStyle = g.stroke;
          c.stroke();
        }
        var pixels = c.getImageData(0, 0, size, size).data;
        this._sprites[g.key] = { canvas: canvas, ratio: ratio, pixels: pixels, pixels32: new Uint32Array(pixels.buffer) };
        return canvas;
      },

      _drawClusters: function (ctx, clusters, time) {
        if (!clusters.length) return;
        ctx.font = this.options.font;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        var phase = (time % this.options.pulseMs) / this.options.pulseMs;
        for (var i = 0; i < clusters.length; i++) {
          var c = clusters[i];
          var x = c.sx / c.n;
          var y = c.sy / c.n;
          var r = 14 + 5 * Math.log2(c.n);
          c.x = x;
          c.y = y;
          c.r = r;
          if (c.top.pulse) {
            ctx.beginPath();
            ctx.arc(x, y, r * (1 + 0.6 * phase), 0, 2 * Math.PI);
            ctx.globalAlpha = 1 - phase;
            ctx.lineWidth = 4;
            ctx.strokeStyle = c.top.color;
            ctx.stroke();
            ctx.globalAlpha = 1;
          }
          ctx.beginPath();
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          ctx.globalAlpha = 0.35;
          ctx.fillStyle = c.top.color;
          ctx.fill();
          ctx.globalAlpha = 1;
          ctx.lineWidth = 3;
          ctx.strokeStyle = c.top.color;
          ctx.stroke();
          ctx.fillStyle = "#ffffff";
          ctx.fillText(String(c.n), x, y + 1);
        }
        this._clusters = clusters;
      },

      _click: function (event) {
        var map = this._map;
        var layerPoint = map.latLngToLayerPoint(event.latlng);
        var x = layerPoint.x - this._topLeft.x;
        var y = layerPoint.y - this._topLeft.y;
        var best = null;
        var bestD = this.options.hitPx * this.options.hitPx;
        (this._drawn || []).forEach(function (p) {
          var d = (p._cx - x) * (p._cx - x) + (p._cy - y) * (p._cy - y);
          if (d <= bestD) {
            bestD = d;
            best = p;
          }
        });
        if (best) this.options.onClick(best.id, best);
      },
    });
  }

  /* A pane for live layers above the basemap's canvas (overlayPane 400) and below labels (markerPane 600). */
  Core.livePane = function (map) {
    if (!map.getPane("wallLive")) map.createPane("wallLive").style.zIndex = 450;
    return "wallLive";
  };

  Core.pointLayer = function (options) {
    if (!PointLayer) PointLayer = definePointLayer();
    return new PointLayer(options);
  };

  /* ---- geometry ---- */

  var EARTH_R = 6371008.8; // metres, as the server's (dispatchd/geo/distance.py)

  /* Great-circle distance in metres between two points (haversine). */
  Core.distance = function (lat1, lon1, lat2, lon2) {
    var p1 = (lat1 * Math.PI) / 180;
    var p2 = (lat2 * Math.PI) / 180;
    var dp = p2 - p1;
    var dl = ((lon2 - lon1) * Math.PI) / 180;
    var a = Math.sin(dp / 2) * Math.sin(dp / 2) + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) * Math.sin(dl / 2);
    return 2 * EARTH_R * Math.asin(Math.min(1, Math.sqrt(a)));
  };

  /* ---- kiosk options and formatting ---- */

  Core.kioskOptions = function () {
    var query = new URLSearchParams(window.location.search);
    var panels = query.get("panels");
    var street = query.get("street");
    var rotate = query.get("rotate");
    return {
      panels: panels ? panels.split(",").map(function (p) { return p.trim(); }).filter(Boolean) : null,
      street: street && /^\d+$/.test(street) ? Number(street) : null,
      rotate: rotate !== null && /^\d+$/.test(rotate) ? Number(rotate) : 20,
    };
  };

  var formats = {};
  function format(tz, kind) {
    var key = tz + kind;
    if (!formats[key]) {
      var options = { timeZone: tz, hour12: false };
      if (kind === "time") Object.assign(options, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
      if (kind === "short") Object.assign(options, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
      if (kind === "date") Object.assign(options, { year: "numeric", month: "long", day: "numeric", weekday: "long" });
      formats[key] = new Intl.DateTimeFormat("zh-CN", options);
    }
    return formats[key];
  }

  Core.time = function (value, tz, kind) {
    if (!value) return "—";
    var date = value instanceof Date ? value : new Date(value);
    return format(tz, kind || "time").format(date);
  };

  /* "02:13:09" left, or "超 00:12:33" past the deadline. */
  Core.countdown = function (ms) {
    var late = ms < 0;
    var s = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600);
    var text = (h > 99 ? h : ("0" + h).slice(-2)) + ":" + ("0" + Math.floor((s % 3600) / 60)).slice(-2) + ":" + ("0" + (s % 60)).slice(-2);
    return late ? "超 " + text : text;
  };

  Core.el = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };

  Core.label = function (config, table, code) {
    var names = config.labels[table] || {};
    return names[code] || code || "—";
  };

  Core.SEVERITY = {
    low: { color: "#4fc3f7", z: 1, r: 8 },
    normal: { color: "#ffd54f", z: 2, r: 9 },
    high: { color: "#ff8a3d", z: 3, r: 10 },
    major: { color: "#ff2d55", z: 4, r: 12 },
  };
  Core.SEVERITY_RANK = { low: 1, normal: 2, high: 3, major: 4 };
  Core.WORKER = {
    on_duty: { color: "#3ddc97", z: 3 },
    busy: { color: "#ffb020", z: 4 },
    off_duty: { color: "#7b8aa3", z: 2 },
    offline: { color: "#3c4a60", z: 1 },
  };

  /* The style of a case point on the maps: colour by severity, major ones pulsing. */
  Core.caseStyle = function (c, scale) {
    var s = Core.SEVERITY[c.severity] || Core.SEVERITY.normal;
    return {
      lat: c.lat, lon: c.lon, color: s.color, z: 10 + s.z, r: s.r * (scale || 1), stroke: "#0b1530",
      pulse: c.severity === "major", rank: Core.SEVERITY_RANK[c.severity] || 0,
    };
  };

  Core.workerStyle = function (state, scale) {
    var s = Core.WORKER[state] || Core.WORKER.offline;
    return { color: s.color, z: s.z, r: 4.5 * (scale || 1), rank: s.z };
  };

  /* Keeps a point layer of workers current: the live state over HTTP whenever the positions topic is
   * (re)subscribed (the hub's board only knows workers that moved since its process started), then
   * every coalesced batch, part by part as it comes; an older fix never replaces a newer one. Returns the hub
   * message handler. */
  Core.trackWorkers = function (layer, scale, acceptLive) {
    var styles = {};
    function style(state) {
      return styles[state] || (styles[state] = Core.workerStyle(state, scale));
    }
    function put(id, lat, lon, t, state) {
      if (lat === null || lat === undefined || lon === null || lon === undefined) return;
      var p = layer.get(id);
      if (p && p.t > t) return;
      p = layer.move(id, lat, lon, style(state));
      p.t = t;
      p.state = state;
      p.seen = performance.now();
    }
    function load() {
      var started = performance.now();
      return Core.api("/api/workers/live").then(function (states) {
        var seen = new Set();
        states.forEach(function (w) {
          if (w.lat === null || (acceptLive && !acceptLive(w))) return;
          seen.add(w.worker_id);
          put(w.worker_id, w.lat, w.lon, w.t || 0, w.status);
        });
        layer.ids().forEach(function (id) {
          // a worker a batch placed while the snapshot was in flight is fresher than the snapshot: keep it
          var p = layer.get(id);
          if (!seen.has(id) && !(p && p.seen >= started)) layer.remove(id);
        });
      });
    }
    return function (message) {
      if (message.topic !== "positions") return;
      if (message.op === "subscribed") load().catch(function () {});
      if (message.op !== "batch") return;
      var items = message.items || [];
      for (var i = 0; i < items.length; i++) {
        var item = items[i];
        put(item.worker_id, item.lat, item.lon, item.t || 0, item.state);
      }
    };
  };

  window.WallCore = Core;
})();
