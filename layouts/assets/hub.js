/* Browser client of the hub (/ws/hub, docs/protocol.md): resumes from the last offsets after
 * reconnecting with backoff and jitter, answers the server's pings, pings the server itself.
 * Dash loads every file in assets/, so each page gets window.WallHub and, when it has an element
 * with id "hub-status", a connection indicator driven by a shared client (window.wallHub), whose
 * messages (events, batches, subscribed replies, errors) are dispatched on window as
 * "wallhub:message" CustomEvents; pages subscribe with window.wallHub.subscribe(topic, filter).
 * Position batches arrive in parts (part i of parts, each its own message, applied as it comes); their
 * compact items are decoded here, and only here, into objects named by the batch's "fields". */
(function () {
  "use strict";

  function WallHub(options) {
    options = options || {};
    var loc = window.location;
    this.url = options.url || (loc.protocol === "https:" ? "wss://" : "ws://") + loc.host + "/ws/hub";
    this.token = options.token || null;
    this.heartbeatMs = options.heartbeatMs || 10000;
    this.backoffMs = options.backoffMs || 250;
    this.backoffMaxMs = options.backoffMaxMs || 15000;
    this.onMessage = options.onMessage || function () {};
    this.onStatus = options.onStatus || function () {};
    // also dispatch every message on window as a "wallhub:message" CustomEvent (detail: the message)
    this.broadcast = Boolean(options.broadcast);
    this.positions = {}; // topic -> {epoch, offset}
    this.filters = {}; // topic -> filter or null
    this.resyncing = {};
    this.attempt = 0;
    this.ws = null;
    this.closed = false;
    this.lastHeard = 0;
  }

  /* The items of a position batch (format 2: arrays in the order of "fields", trailing nulls left out,
   * state an index into "states") as objects {worker_id, lat, lon, t, state, ...}. */
  function positionItems(batch) {
    var rows = batch.items || [];
    var fields = batch.fields || [];
    var states = batch.states || [];
    var items = new Array(rows.length);
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var item = {};
      for (var k = 0; k < fields.length; k++) item[fields[k]] = k < row.length ? row[k] : null;
      if (typeof item.state === "number") item.state = item.state < states.length ? states[item.state] : null;
      items[i] = item;
    }
    return items;
  }

  WallHub.positionItems = positionItems;

  WallHub.prototype.start = function () {
    this._connect();
    return this;
  };

  WallHub.prototype.stop = function () {
    this.closed = true;
    if (this.ws) this.ws.close(1000);
  };

  WallHub.prototype.subscribe = function (topic, filter) {
    this.filters[topic] = filter || null;
    this._send(this._subscribeFrame(topic));
  };

  WallHub.prototype.unsubscribe = function (topic) {
    delete this.filters[topic];
    delete this.positions[topic];
    this._send({ op: "unsubscribe", topic: topic });
  };

  WallHub.prototype._subscribeFrame = function (topic) {
    var frame = { op: "subscribe", topic: topic };
    var where = this.positions[topic];
    if (this.filters[topic]) frame.filter = this.filters[topic];
    if (where) frame.since = where.epoch + ":" + where.offset;
    return frame;
  };

  WallHub.prototype._send = function (message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  };

  WallHub.prototype._connect = function () {
    var self = this;
    var url = this.url + (this.token ? "?token=" + encodeURIComponent(this.token) : "");
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      this._retry();
      return;
    }
    this.ws = ws;
    this.onStatus("connecting");
    ws.onopen = function () {
      self.lastHeard = Date.now();
      Object.keys(self.filters).forEach(function (topic) {
        self.resyncing[topic] = false;
        self._send(self._subscribeFrame(topic));
      });
      self._beat = setInterval(function () {
        if (Date.now() - self.lastHeard > 3 * self.heartbeatMs) ws.close(4000);
        else self._send({ op: "ping" });
      }, self.heartbeatMs);
    };
    ws.onmessage = function (msg) {
      self.lastHeard = Date.now();
      var message;
      try {
        message = JSON.parse(msg.data);
      } catch (err) {
        return;
      }
      self._handle(message);
    };
    ws.onclose = function (event) {
      clearInterval(self._beat);
      self.ws = null;
      if (event.code === 4001) {
        self.onStatus("refused");
        return; // credentials refused: retrying would not help
      }
      self.onStatus("offline");
      if (!self.closed) self._retry();
    };
  };

  WallHub.prototype._retry = function () {
    var self = this;
    this.attempt = Math.min(this.attempt + 1, 16);
    var delay = Math.min(this.backoffMaxMs, this.backoffMs * Math.pow(2, this.attempt));
    setTimeout(function () {
      self._connect();
    }, delay * (0.5 + Math.random() / 2));
  };

  WallHub.prototype._handle = function (message) {
    var self = this;
    switch (message.op) {
      case "ping":
        this._send({ op: "pong", n: message.n });
        return;
      case "pong":
        return;
      case "hello":
        this.attempt = 0;
        this.onStatus("live");
        break;
      case "batch":
        message.items = positionItems(message);
        break;
      case "subscribed":
        this.resyncing[message.topic] = false;
        var missed = message.missed || [];
        delete message.missed;
        this._emit(message); // recovered:false means: reload a snapshot over HTTP
        if (!message.recovered) {
          this.positions[message.topic] = { epoch: message.epoch, offset: message.offset };
          return;
        }
        missed.forEach(function (event) {
          self._accept(event);
        });
        this.positions[message.topic] = { epoch: message.epoch, offset: message.offset };
        return;
      case "event":
        if (this.resyncing[message.topic] || !(message.topic in this.filters)) return;
        var where = this.positions[message.topic];
        if (where && where.epoch === message.epoch && message.offset > where.offset + 1) {
          this.resyncing[message.topic] = true; // a gap: ask again from where we are
          this._send(this._subscribeFrame(message.topic));
          return;
        }
        this._accept(message);
        return;
    }
    this._emit(message);
  };

  WallHub.prototype._accept = function (event) {
    var where = this.positions[event.topic];
    if (where && where.epoch === event.epoch && event.offset <= where.offset) return;
    this.positions[event.topic] = { epoch: event.epoch, offset: event.offset };
    this._emit(event);
  };

  WallHub.prototype._emit = function (message) {
    this.onMessage(message);
    if (this.broadcast) window.dispatchEvent(new CustomEvent("wallhub:message", { detail: message }));
  };

  window.WallHub = WallHub;

  var LABELS = { connecting: "connecting…", live: "live", offline: "reconnecting…", refused: "not signed in" };

  /* The page's token: ?token= (kept in localStorage for the next visit), else the stored one. */
  function pageToken() {
    var fromUrl = new URLSearchParams(window.location.search).get("token");
    if (fromUrl) {
      try {
        window.localStorage.setItem("wallToken", fromUrl);
      } catch (err) {}
      return fromUrl;
    }
    try {
      return window.localStorage.getItem("wallToken");
    } catch (err) {
      return null;
    }
  }

  WallHub.pageToken = pageToken;

  function startIndicator() {
    var indicator = document.getElementById("hub-status");
    if (!indicator || window.wallHub) return Boolean(indicator);
    window.wallHub = new WallHub({
      token: pageToken(),
      broadcast: true,
      onStatus: function (status) {
        var element = document.getElementById("hub-status");
        if (!element) return;
        element.textContent = LABELS[status] || status;
        element.setAttribute("data-status", status);
      },
    }).start();
    return true;
  }

  // Dash renders the layout after this script runs: wait for the indicator to appear.
  document.addEventListener("DOMContentLoaded", function () {
    if (startIndicator()) return;
    var observer = new MutationObserver(function () {
      if (startIndicator()) observer.disconnect();
    });
    observer.observe(document.body, { childList: true, subtree: true });
  });
})();
