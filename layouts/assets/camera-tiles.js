/* Live camera tiles (window.CameraTiles): a tile plays one camera over WebRTC through the GB/T 28181 relay.
 * POST /api/cameras/{id}/play takes a recvonly offer and answers; DELETE /api/cameras/{id}/play/{session} ends it.
 * A tile's state is in its data-state attribute (and its text in .camera-placeholder):
 *   idle · connecting · live · offline · not_playable (H.265: browsers get H.264 only) · error (retried with
 *   backoff) · waiting (over the page's limit of concurrent tiles).
 * Players restart when the picture freezes (framesDecoded stops growing), when the hub reconnects, and when the
 * page becomes visible again; they stop while it is hidden and whenever their tile gets another camera. */
(function () {
  "use strict";

  var TEXT = {
    idle: "—", connecting: "视频接入中…", live: "", offline: "摄像机离线", not_playable: "H.265 无法在浏览器播放",
    error: "视频中断，重试中", waiting: "轮候播放",
  };
  var ICE_WAIT_MS = 2500;
  var FIRST_FRAME_MS = 10000;
  var BACKOFF_MS = [1000, 2000, 5000, 10000, 20000, 30000];
  var UNAVAILABLE_MS = 15000; // the relay says the camera cannot be reached now: ask again later

  /* H.265 channels are refused by the relay (browsers decode H.264 only): no need to ask. */
  function isHevc(camera) {
    return /265|hevc/i.test(String(camera.codec || ""));
  }

  /* The kiosk URL option `cameras=N` (concurrent live tiles), or null. */
  function limitFromUrl() {
    var value = new URLSearchParams(window.location.search).get("cameras");
    return value !== null && /^\d+$/.test(value) ? Number(value) : null;
  }

  function Player(tile, options) {
    this.tile = tile;
    this.options = options;
    this.camera = null;
    this.pc = null;
    this.session = null;
    this.generation = 0;
    this.failures = 0;
    this.timer = null;
    this.watch = null;
    this.frames = 0;
    this.progressAt = 0;
    this.video = tile.querySelector("video");
    if (!this.video) {
      this.video = document.createElement("video");
      this.video.className = "camera-video";
      tile.insertBefore(this.video, tile.firstChild);
    }
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.setAttribute("playsinline", "");
    this.video.setAttribute("muted", "");
  }

  Player.prototype.setState = function (state, text) {
    this.state = state;
    this.tile.setAttribute("data-state", state);
    var label = this.tile.querySelector(".camera-placeholder");
    if (label) label.textContent = text !== undefined ? text : TEXT[state];
  };

  /* Show `camera` (or nothing) in this tile; `active` says whether it may hold a live stream now. */
  Player.prototype.assign = function (camera, active) {
    var same = camera && this.camera && camera.id === this.camera.id;
    var wasOnline = same && this.camera.online;
    this.camera = camera;
    var name = this.tile.querySelector(".camera-name");
    if (name) name.textContent = camera ? camera.label || camera.name : "—";
    this.tile.classList.toggle("offline", !!camera && !camera.online);
    if (camera) this.tile.setAttribute("data-camera-id", camera.id);
    else this.tile.removeAttribute("data-camera-id");
    if (same && active && camera.online && wasOnline && this.running()) return;
    this.stop();
    this.failures = 0;
    if (!camera) this.setState("idle");
    else if (!camera.online) this.setState("offline");
    else if (isHevc(camera)) this.setState("not_playable");
    else if (!active) this.setState("waiting");
    else this.play();
  };

  Player.prototype.running = function () {
    return this.state === "connecting" || this.state === "live" || this.state === "error";
  };

  Player.prototype.play = function () {
    var self = this;
    var generation = ++this.generation;
    var camera = this.camera;
    this.setState("connecting");
    var marks = { start: performance.now() };
    this.marks = marks;
    var pc;
    try {
      pc = new RTCPeerConnection({ iceServers: this.options.iceServers || [], bundlePolicy: "max-bundle" });
    } catch (error) {
      return this.fail({ code: "webrtc_unavailable", message: String(error) });
    }
    this.pc = pc;
    this.frames = 0;
    this.progressAt = Date.now() + FIRST_FRAME_MS;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = function (event) {
      if (generation !== self.generation) return;
      self.video.srcObject = event.streams[0] || new MediaStream([event.track]);
      var started = self.video.play();
      if (started && started.catch) started.catch(function () {});
    };
    pc.onconnectionstatechange = function () {
      if (generation === self.generation && pc.connectionState === "failed") self.fail({ code: "ice_failed" });
    };
    pc.createOffer()
      .then(function (offer) {
        return pc.setLocalDescription(offer);
      })
      .then(function () {
        return gathered(pc); // the relay does not trickle: the offer carries every candidate
      })
      .then(function () {
        if (generation !== self.generation) throw null;
        marks.offer = performance.now();
        return self.options.api("/api/cameras/" + camera.id + "/play", {
          method: "POST", body: { sdp: pc.localDescription.sdp, type: "offer" },
        });
      })
      .then(function (answer) {
        if (generation !== self.generation) {
          closeSession(self.options.api, camera.id, answer.session);
          throw null;
        }
        self.session = answer.session;
        marks.answer = performance.now();
        return pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      })
      .then(function () {
        self.check(generation);
      })
      .catch(function (error) {
        if (error !== null && generation === self.generation) self.fail(error);
      });
  };

  function gathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, ICE_WAIT_MS);
    });
  }

  function closeSession(api, cameraId, session) {
    if (!session) return;
    api("/api/cameras/" + cameraId + "/play/" + encodeURIComponent(session), { method: "DELETE" }).catch(function () {});
  }

  /* The decoded-frame counter of the tile's inbound video (0 before any). */
  Player.prototype.stats = function () {
    if (!this.pc) return Promise.resolve({ framesDecoded: 0, state: this.state });
    var state = this.state;
    return this.pc.getStats().then(function (report) {
      var out = { framesDecoded: 0, state: state };
      report.forEach(function (s) {
        if (s.type === "inbound-rtp" && (s.kind || s.mediaType) === "video") {
          out.framesDecoded = s.framesDecoded || 0;
          out.frameWidth = s.frameWidth;
          out.frameHeight = s.frameHeight;
        }
      });
      return out;
    });
  };

  /* Watch the decoded-frame counter: often until the first picture, then every second; restart when it stalls. */
  Player.prototype.check = function (generation) {
    var self = this;
    this.stats().catch(function () {
      return null;
    }).then(function (s) {
      if (generation !== self.generation) return;
      self.watch = setTimeout(function () {
        self.check(generation);
      }, self.state === "live" ? 1000 : 100);
      if (!s) return;
      if (s.framesDecoded > self.frames) {
        self.frames = s.framesDecoded;
        self.progressAt = Date.now() + self.options.freezeMs;
        self.failures = 0;
        if (self.state !== "live") {
          // how long "play" took to a decoded picture (and its parts), for tests and diagnosis
          var m = self.marks;
          self.tile.setAttribute("data-first-frame-ms", Math.round(performance.now() - m.start));
          self.tile.setAttribute("data-timing", "ice " + Math.round(m.offer - m.start) + " ms, play " +
            Math.round(m.answer - m.offer) + " ms");
          self.setState("live");
        }
      } else if (Date.now() > self.progressAt) {
        self.fail({ code: self.state === "live" ? "frozen" : "no_video" });
      }
    });
  };

  Player.prototype.fail = function (error) {
    var self = this;
    this.stop();
    if (error.code === "not_playable") return this.setState("not_playable");
    var delay = error.code === "camera_unavailable" ? UNAVAILABLE_MS : BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
    this.failures++;
    delay = delay * (0.8 + Math.random() * 0.4);
    if (error.code === "camera_unavailable") this.setState("offline", TEXT.offline);
    else this.setState("error", TEXT.error + "（" + (error.code || error.message || "error") + "）");
    var generation = this.generation;
    this.timer = setTimeout(function () {
      if (generation === self.generation && self.camera) self.play();
    }, delay);
  };

  /* End the stream (and its relay session); the tile keeps its camera. */
  Player.prototype.stop = function () {
    this.generation++;
    clearTimeout(this.timer);
    clearTimeout(this.watch);
    this.timer = this.watch = null;
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.session && this.camera) closeSession(this.options.api, this.camera.id, this.session);
    this.session = null;
    this.video.srcObject = null;
  };

  /* Play now if the tile should (a reconnect or the page showing again), without waiting for a backoff. */
  Player.prototype.retry = function () {
    if (!this.camera || this.state === "not_playable" || this.state === "idle" || this.state === "waiting") return;
    if (this.state === "offline" && !this.camera.online) return;
    if (this.state === "live") return; // the freeze watch restarts a live tile that stopped moving
    this.stop();
    this.failures = 0;
    this.play();
  };

  /* A set of tiles sharing one limit of concurrent streams. options: api (WallCore.api), iceServers, limit,
   * freezeS (seconds without a decoded frame before a restart). */
  function Tiles(tiles, options) {
    var self = this;
    this.options = Object.assign({ iceServers: [], freezeS: 6 }, options);
    this.options.freezeMs = this.options.freezeS * 1000;
    var limit = this.options.limit;
    if (limit === undefined || limit === null) limit = limitFromUrl();
    this.limit = limit === null ? tiles.length : limit;
    this.players = Array.prototype.map.call(tiles, function (tile) {
      var player = new Player(tile, self.options);
      player.setState("idle");
      return player;
    });
    this.paused = false;
    this.hidden = document.hidden;
    document.addEventListener("visibilitychange", function () {
      self.visibility();
    });
    window.addEventListener("pagehide", function () {
      self.stopAll();
    });
  }

  /* Put cameras[i] into tile i (null/undefined leaves a tile empty); the first `limit` playable ones play. */
  Tiles.prototype.assign = function (cameras) {
    var self = this;
    var slots = this.limit;
    this.players.forEach(function (player, i) {
      var camera = cameras[i] || null;
      var playable = camera && camera.online && !isHevc(camera);
      var active = playable && slots > 0 && !self.hidden;
      if (playable && slots > 0) slots--;
      player.assign(camera, active);
    });
  };

  Tiles.prototype.cameras = function () {
    return this.players.map(function (p) {
      return p.camera;
    });
  };

  Tiles.prototype.visibility = function () {
    var hidden = document.hidden || this.paused;
    if (hidden === this.hidden) return;
    this.hidden = hidden;
    if (hidden) this.stopAll();
    else this.assign(this.cameras());
  };

  /* Pause (true) or resume the tiles while the page stays visible, e.g. when their stage is hidden. */
  Tiles.prototype.pause = function (paused) {
    this.paused = !!paused;
    this.visibility();
  };

  /* Stop every stream (page hidden or leaving). */
  Tiles.prototype.stopAll = function () {
    this.players.forEach(function (p) {
      p.stop();
      if (p.camera && p.running()) p.setState("waiting");
    });
  };

  /* The hub came back: tiles not live try again at once. */
  Tiles.prototype.reconnected = function () {
    this.players.forEach(function (p) {
      p.retry();
    });
  };

  /* getStats() figures of every tile: [{camera_id, state, framesDecoded, frameWidth, frameHeight}]. */
  Tiles.prototype.stats = function () {
    return Promise.all(this.players.map(function (p) {
      return p.stats().then(function (s) {
        s.camera_id = p.camera ? p.camera.id : null;
        return s;
      });
    }));
  };

  /* Make the tiles under `root` (elements .camera-tile) live; `onStatus` is WallCore.onStatus to follow reconnects. */
  function attach(root, options, onStatus) {
    var tiles = new Tiles(root.querySelectorAll(".camera-tile"), options);
    if (onStatus) {
      var lost = false;
      onStatus(function (status) {
        if (status === "offline") lost = true;
        if (status === "live" && lost) {
          lost = false;
          tiles.reconnected();
        }
      });
    }
    return tiles;
  }

  window.CameraTiles = { attach: attach };
})();
