/* Browser client of video calls and dispatch sessions (docs/protocol.md, "Calls and dispatch sessions").
 *
 *   var calls = new WallCalls({token: "...", slots: 3});           // token: else ?token= / localStorage
 *   calls.on("invite", function (invite) { ... calls.accept(invite.call) ... });
 *   calls.on("remote", function (r) { videoEl.srcObject = r.stream; });  // r: {slot, stream, participant}
 *   calls.on("state", function (snapshot) { ... });                    // the call.<id> snapshot
 *   calls.call(workerId, {caseId: 12, record: true});                  // 1:1 call, returns the snapshot
 *   calls.startSession({invite: [{worker_id: 3}, {department_id: 2}], caseId: 12});
 *   calls.join(callId); calls.decline(callId, "busy"); calls.hangup(); calls.hangup({all: true});
 *   calls.mute({audio: true}); calls.invite([{worker_id: 4}]); calls.addCamera(cameraId); calls.record(false);
 *   calls.remove(participantId);                                       // take a camera (anyone) out
 *   calls.localStream                                                  // for a self-view
 *   WallCalls.status(snapshot, calls.participant)  // {state, reason, text}: ringing|connecting|connected|ended|…
 *   calls.others()                                 // the snapshot's other participants, for lists and captions
 * Media: one RTCPeerConnection to the server per call: our camera+microphone sendonly, and `slots` pairs of
 * recvonly video+audio that show the other participants (the server forwards their media, not re-encoded;
 * H.264 preferred). Hub events arrive through the page's shared hub client (hub.js "wallhub:message"), or
 * through calls.handleHubMessage(message). After a network change the connection is replaced (reconnect)
 * without leaving the call. The client subscribes to call.<id> when it has joined, and reads the snapshot once
 * more when the hub confirms (or could not resume) that subscription, so a change in between is not lost.
 * Events: invite, invite_closed, state, remote, ended, error. */
(function () {
  "use strict";

  function WallCalls(options) {
    options = options || {};
    this.api = options.api || "/api";
    this.token = options.token || WallCalls.storedToken();
    this.slots = options.slots || 3;
    this.media = options.media || { audio: true, video: { width: 1280, height: 720 } };
    this.hub = options.hub || window.wallHub || null;
    this.handlers = {};
    this.config = null;
    this.pc = null;
    this.callId = null;
    this.participant = null;
    this.slotMids = [];
    this.snapshot = null;
    this.localStream = null;
    this.remote = {}; // slot index -> MediaStream
    this._reconnecting = null;
    var self = this;
    window.addEventListener("wallhub:message", function (event) { self.handleHubMessage(event.detail); });
    window.addEventListener("online", function () { if (self.callId) self.reconnect(); });
  }

  /* ?token= (kept in localStorage) or the stored one: the same rule as the hub's (hub.js, loaded first). */
  WallCalls.storedToken = function () {
    return window.WallHub.pageToken();
  };

  var REASONS = {
    declined: "对方拒接 declined", busy: "对方忙 busy", missed: "无人接听 missed", hangup: "已挂断 hung up",
    ended: "会商已结束 ended", disconnected: "连接中断 disconnected", connection_failed: "连接失败 connection failed",
    failed: "失败 failed", shutdown: "服务关闭 shutdown", camera_ended: "摄像头已断开 camera ended",
  };
  var STATES = {
    ringing: "呼叫中… ringing", connecting: "连接中… connecting", connected: "通话中 connected",
    reconnecting: "重连中… reconnecting", ended: "已结束 ended",
  };

  /* What a snapshot means to one participant: ringing (nobody else has answered yet), connecting, connected
   * (someone else is connected), reconnecting (our own connection), or ended / declined / busy / missed. */
  WallCalls.status = function (snapshot, participantId) {
    if (!snapshot) return { state: "idle", reason: "", text: "" };
    var people = snapshot.participants || [];
    var me = people.filter(function (p) { return p.id === participantId; })[0];
    var others = people.filter(function (p) { return p.id !== participantId; });
    var state;
    if (snapshot.state === "ended") {
      state = ["declined", "busy", "missed"].indexOf(snapshot.reason) >= 0 ? snapshot.reason : "ended";
    } else if (me && me.state === "reconnecting") state = "reconnecting";
    else if (others.some(function (p) { return p.state === "connected"; })) state = "connected";
    else if (snapshot.state === "ringing" || others.some(function (p) { return p.state === "invited"; })) state = "ringing";
    else state = "connecting";
    var text = state === "ended" || REASONS[state] ? REASONS[snapshot.reason] || STATES.ended : STATES[state];
    return { state: state, reason: snapshot.reason || "", text: text };
  };

  WallCalls.reasonText = function (reason) { return REASONS[reason] || reason || ""; };

  WallCalls.prototype._hub = function () { return this.hub || window.wallHub || null; };

  WallCalls.prototype.others = function () {
    var self = this;
    return ((this.snapshot && this.snapshot.participants) || []).filter(function (p) { return p.id !== self.participant; });
  };

  WallCalls.prototype.on = function (name, handler) {
    (this.handlers[name] = this.handlers[name] || []).push(handler);
    return this;
  };

  WallCalls.prototype._emit = function (name, value) {
    (this.handlers[name] || []).forEach(function (handler) {
      try { handler(value); } catch (e) { console.error(e); }
    });
  };

  WallCalls.prototype.request = function (method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (this.token) headers.Authorization = "Bearer " + this.token;
    var csrf = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (csrf) headers["X-CSRFToken"] = csrf[1];
    return fetch(this.api + path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error((data && data.error) || "http_" + response.status);
          error.status = response.status;
          error.detail = data && data.detail;
          throw error;
        }
        return data;
      });
    });
  };

  WallCalls.prototype.loadConfig = function () {
    var self = this;
    if (this.config) return Promise.resolve(this.config);
    return this.request("GET", "/calls/config").then(function (config) { return (self.config = config); });
  };

  // ----- media -----

  WallCalls.prototype._localMedia = function () {
    var self = this;
    if (this.localStream) return Promise.resolve(this.localStream);
    return navigator.mediaDevices.getUserMedia(this.media).then(function (stream) {
      return (self.localStream = stream);
    });
  };

  function preferH264(transceiver, kind) {
    if (!transceiver.setCodecPreferences || !window.RTCRtpReceiver || !RTCRtpReceiver.getCapabilities) return;
    var codecs = (RTCRtpReceiver.getCapabilities(kind) || {}).codecs || [];
    var rank = function (c) {
      var mime = c.mimeType.toLowerCase();
      if (mime === "video/h264") return /packetization-mode=1/.test(c.sdpFmtpLine || "") ? 0 : 1;
      return mime === "video/vp8" ? 2 : mime === "video/rtx" ? 3 : 9;
    };
    var chosen = codecs.filter(function (c) { return rank(c) < 9; });
    chosen.sort(function (a, b) { return rank(a) - rank(b); });
    if (chosen.length) transceiver.setCodecPreferences(chosen);
  }

  WallCalls.prototype._newConnection = function () {
    var self = this;
    var pc = new RTCPeerConnection({ iceServers: this.config.ice_servers || [], bundlePolicy: "max-bundle" });
    var stream = this.localStream;
    stream.getVideoTracks().slice(0, 1).forEach(function (track) {
      preferH264(pc.addTransceiver(track, { direction: "sendonly", streams: [stream] }), "video");
    });
    stream.getAudioTracks().slice(0, 1).forEach(function (track) {
      pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    });
    var slots = Math.min(this.slots, this.config.max_slots || this.slots);
    for (var i = 0; i < slots; i++) {
      preferH264(pc.addTransceiver("video", { direction: "recvonly" }), "video");
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    pc.ontrack = function (event) { self._track(pc, event); };
    pc.oniceconnectionstatechange = function () {
      if (pc !== self.pc) return;
      var state = pc.iceConnectionState;
      if (state === "failed") self.reconnect();
      else if (state === "disconnected") {
        setTimeout(function () { if (pc === self.pc && pc.iceConnectionState === "disconnected") self.reconnect(); }, 3000);
      }
    };
    return pc;
  };

  function gathered(pc) {
    // No trickle ICE: the offer carries every candidate (host candidates come at once; STUN may take longer).
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") return resolve();
      var done = function () { if (pc.iceGatheringState === "complete") resolve(); };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 2500);
    });
  }

  WallCalls.prototype._offer = function (pc) {
    return pc.createOffer().then(function (offer) { return pc.setLocalDescription(offer); })
      .then(function () { return gathered(pc); })
      .then(function () { return pc.localDescription.sdp; });
  };

  WallCalls.prototype._answered = function (pc, body) {
    var self = this;
    this.callId = body.call.id;
    this.participant = body.participant;
    this.slotMids = (body.slots || []).map(function (slot) { return slot.video_mid; });
    this.audioMids = (body.slots || []).map(function (slot) { return slot.audio_mid; });
    if (this._hub()) this._hub().subscribe(body.call.topic);
    return pc.setRemoteDescription({ type: "answer", sdp: body.sdp }).then(function () {
      self._state(body.call);
      return body.call;
    });
  };

  WallCalls.prototype._track = function (pc, event) {
    if (pc !== this.pc) return;
    var mid = event.transceiver && event.transceiver.mid;
    var slot = this.slotMids.indexOf(mid);
    if (slot < 0) slot = this.audioMids.indexOf(mid);
    if (slot < 0) return;
    var stream = this.remote[slot] || (this.remote[slot] = new MediaStream());
    stream.getTracks().filter(function (t) { return t.kind === event.track.kind; })
      .forEach(function (t) { stream.removeTrack(t); });
    stream.addTrack(event.track);
    this._emit("remote", { slot: slot, stream: stream, participant: this.shownIn(slot) });
  };

  // ----- state -----

  WallCalls.prototype.me = function () {
    var self = this;
    var people = (this.snapshot && this.snapshot.participants) || [];
    return people.filter(function (p) { return p.id === self.participant; })[0] || null;
  };

  WallCalls.prototype.shownIn = function (slot) {
    // The participant (snapshot entry) shown in one of our slots, or null.
    var me = this.me();
    var id = me && me.slots[slot] ? me.slots[slot].participant : null;
    var people = (this.snapshot && this.snapshot.participants) || [];
    return people.filter(function (p) { return p.id === id; })[0] || null;
  };

  WallCalls.prototype._state = function (snapshot) {
    if (!snapshot || snapshot.id !== this.callId) return;
    this.snapshot = snapshot;
    this._emit("state", snapshot);
    if (snapshot.state === "ended") this._closed(snapshot);
  };

  WallCalls.prototype.handleHubMessage = function (message) {
    if (message && message.op === "subscribed" && this.callId && message.topic === "call." + this.callId) {
      this._refresh(this.callId);
      return;
    }
    if (!message || message.op !== "event" || !message.type || message.type.indexOf("call.") !== 0) return;
    if (message.type === "call.invite") this._emit("invite", message.data);
    else if (message.type === "call.invite_closed") this._emit("invite_closed", message.data);
    else if (message.type === "call.state") this._state(message.data);
  };

  WallCalls.prototype._refresh = function (callId) {
    // One read of the snapshot: events published before our subscription took effect are not replayed.
    var self = this;
    this.request("GET", "/calls/" + encodeURIComponent(callId)).then(function (snapshot) { self._state(snapshot); },
      function (error) { self._emit("error", error); });
  };

  WallCalls.prototype._closed = function (snapshot) {
    if (this.pc) this.pc.close();
    if (this._hub() && this.snapshot) this._hub().unsubscribe(this.snapshot.topic);
    this.pc = null;
    this.callId = null;
    this.remote = {};
    this._releaseMedia();
    this._emit("ended", snapshot);
  };

  // ----- operations -----

  WallCalls.prototype._connectWith = function (path, extra) {
    var self = this;
    return this.loadConfig().then(function () { return self._localMedia(); }).then(function () {
      var pc = self._newConnection();
      return self._offer(pc).then(function (sdp) {
        var body = Object.assign({ sdp: sdp, type: "offer" }, extra || {});
        return self.request("POST", path, body);
      }).then(function (answer) {
        var old = self.pc;
        self.pc = pc;
        if (old) old.close();
        return self._answered(pc, answer);
      }, function (error) {
        pc.close();
        throw error;
      });
    }).catch(function (error) {
      if (!self.callId) self._releaseMedia(); // refused (busy, ended…) before we were in: camera off again
      throw error;
    });
  };

  WallCalls.prototype._releaseMedia = function () {
    if (this.localStream) this.localStream.getTracks().forEach(function (t) { t.stop(); });
    this.localStream = null;
  };

  WallCalls.prototype.call = function (workerId, options) {
    options = options || {};
    return this._connectWith("/calls", {
      kind: "call", invite: [{ worker_id: workerId }], case_id: options.caseId || null, record: !!options.record,
    });
  };

  WallCalls.prototype.startSession = function (options) {
    options = options || {};
    return this._connectWith("/calls", {
      kind: "session", invite: options.invite || [], case_id: options.caseId || null, record: !!options.record,
    });
  };

  WallCalls.prototype.join = function (callId, seat) {
    return this._connectWith("/calls/" + encodeURIComponent(callId) + "/join", seat ? { participant: seat } : {});
  };

  WallCalls.prototype.accept = function (callId, seat) {
    return this._connectWith("/calls/" + encodeURIComponent(callId) + "/accept", seat ? { participant: seat } : {});
  };

  WallCalls.prototype.decline = function (callId, reason, seat) {
    var body = { reason: reason || "declined" };
    if (seat) body.participant = seat; // a department seat a commander declines for the department
    return this.request("POST", "/calls/" + encodeURIComponent(callId) + "/decline", body);
  };

  WallCalls.prototype._op = function (op, body) {
    if (!this.callId) return Promise.reject(new Error("not in a call"));
    var self = this;
    return this.request("POST", "/calls/" + encodeURIComponent(this.callId) + "/" + op, body || {})
      .then(function (answer) {
        var snapshot = answer && answer.call ? answer.call : answer; // cameras answers {participant, call}
        if (snapshot && snapshot.id) self._state(snapshot);
        return answer;
      });
  };

  WallCalls.prototype.hangup = function (options) {
    return this._op("hangup", { all: Boolean(options && options.all) });
  };

  WallCalls.prototype.mute = function (what) {
    var stream = this.localStream;
    if (stream && what.audio !== undefined) stream.getAudioTracks().forEach(function (t) { t.enabled = !what.audio; });
    if (stream && what.video !== undefined) stream.getVideoTracks().forEach(function (t) { t.enabled = !what.video; });
    return this._op("mute", what);
  };

  WallCalls.prototype.invite = function (invitees) { return this._op("invite", { invite: invitees }); };

  WallCalls.prototype.addCamera = function (cameraId) { return this._op("cameras", { camera_id: cameraId }); };

  WallCalls.prototype.remove = function (participantId) {
    // A commander takes a participant (a camera, say) out of the session.
    if (!this.callId) return Promise.reject(new Error("not in a call"));
    var self = this;
    return this.request("DELETE", "/calls/" + encodeURIComponent(this.callId) + "/participants/" +
      encodeURIComponent(participantId)).then(function (snapshot) { self._state(snapshot); return snapshot; });
  };

  WallCalls.prototype.record = function (on) { return this._op("record", { on: on !== false }); };

  WallCalls.prototype.reconnect = function () {
    // A new connection in place of the old one (aiortc has no ICE restart); the call goes on.
    var self = this;
    if (!this.callId || this._reconnecting) return this._reconnecting || Promise.resolve(null);
    this._reconnecting = this._connectWith("/calls/" + encodeURIComponent(this.callId) + "/reconnect")
      .catch(function (error) { self._emit("error", error); return null; })
      .then(function (snapshot) { self._reconnecting = null; return snapshot; });
    return this._reconnecting;
  };

  WallCalls.prototype.stats = function () {
    // Inbound video figures per slot (framesDecoded, framesReceived, codec), for status displays and tests.
    var self = this;
    if (!this.pc) return Promise.resolve([]);
    return this.pc.getStats().then(function (report) {
      var codecs = {};
      var inbound = [];
      report.forEach(function (s) {
        if (s.type === "codec") codecs[s.id] = s.mimeType;
        if (s.type === "inbound-rtp" && s.kind === "video") inbound.push(s);
      });
      return inbound.map(function (s) {
        return { slot: self.slotMids.indexOf(s.mid), mid: s.mid, framesDecoded: s.framesDecoded || 0,
                 framesReceived: s.framesReceived || 0, codec: codecs[s.codecId] || null };
      });
    });
  };

  window.WallCalls = WallCalls;
})();
