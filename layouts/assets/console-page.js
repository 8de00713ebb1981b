/* The duty commander's console (/console/): the case queue with filters and live SLA countdowns, the
 * map, the selected case's detail, timeline and attachments, every action of the loop as a button
 * (refusals shown as they come back from the API), and the dispatch panel: nearest available workers
 * drawn on the map with distance and ETA, one-click dispatch and the state of the order; video calls to a
 * worker ("呼叫" on a nearest worker or on the assigned one) in a docked call panel, through window.WallCalls
 * (calls.js): state, videos, mute, hang-up, and more parties (worker, department, camera near the case). */
(function () {
  "use strict";

  var QUEUE_LIMIT = 200;
  var ACTION_FIELDS = {
    accept: ["note"], void: ["note"], merge: ["into", "note"], register: ["severity"], dispatch: ["department", "note"],
    redispatch: ["department", "note"], handle: [], feedback: ["note"], rework: ["note"], close: [], evaluate: ["score"],
    return: ["note"], extend_request: ["hours", "note"], extend_approve: [], extend_reject: ["note"], suspend: ["note"],
    resume: [], supervise: ["note"],
  };
  var ORDER_TEXT = {
    sent: "已派单，等待接单", accepted: "已接单", declined: "已拒单", fallback: "已改派就近人员", unassigned: "无人可派",
  };

  var Core;
  var config;
  var map;
  var layers = {};
  var rows = new Map(); // case id -> case, the queue as filtered
  var selected = null; // case id
  var detail = null; // the selected case's detail
  var nearest = null; // {caseId, found}: the last nearest-worker answer
  var streets = {};
  var departments = [];
  var workers = {};
  var renderQueued = false;
  var detailTimer = null;
  var started = false;

  function byId(id) {
    return document.getElementById(id);
  }

  /* ---- filters and the queue ---- */

  function filters() {
    return {
      status: byId("f-status").value,
      severity: byId("f-severity").value,
      street: byId("f-street").value,
      sla: byId("f-sla").value,
      q: (byId("f-q").value || "").trim(),
    };
  }

  function queryString(f) {
    var parts = ["limit=" + QUEUE_LIMIT];
    if (f.status === "open") config.open.forEach(function (s) { parts.push("status=" + s); });
    else if (f.status) parts.push("status=" + f.status);
    if (f.severity) parts.push("severity=" + f.severity);
    if (f.street) parts.push("street=" + f.street);
    if (f.sla === "overdue") parts.push("overdue=true");
    if (f.q) parts.push("q=" + encodeURIComponent(f.q));
    return parts.join("&");
  }

  function matches(c, f) {
    if (f.status === "open" && config.open.indexOf(c.status) < 0) return false;
    if (f.status && f.status !== "open" && c.status !== f.status) return false;
    if (f.severity && c.severity !== f.severity) return false;
    if (f.street && String(c.street_id) !== f.street) return false;
    if (f.sla === "warning" && c.sla_state !== "warning") return false;
    if (f.sla === "overdue" && c.sla_state !== "overdue" && c.sla_state !== "escalated") return false;
    if (f.q) {
      var text = (c.number + " " + c.title + " " + (c.address || "") + " " + (c.description || "")).toLowerCase();
      if (text.indexOf(f.q.toLowerCase()) < 0) return false;
    }
    return true;
  }

  /* Cases that arrive from the hub while the queue is loading: the HTTP answer may predate them. */
  var arrivedWhileLoading = null;

  function takeArrived() {
    var arrived = arrivedWhileLoading || [];
    arrivedWhileLoading = null;
    return arrived;
  }

  function loadQueue() {
    var f = filters();
    arrivedWhileLoading = [];
    return Core.api("/api/cases?" + queryString(f)).then(function (answer) {
      var arrived = takeArrived();
      rows.clear();
      layers.cases.clear();
      answer.items.forEach(function (c) {
        if (matches(c, f)) putRow(c);
      });
      arrived.forEach(applyCase);
      scheduleRender();
    }, function (error) {
      takeArrived().forEach(applyCase);
      throw error;
    });
  }

  function putRow(c) {
    rows.set(c.id, c);
    layers.cases.set(c.id, Core.caseStyle(c, 1));
  }

  function applyCase(c) {
    if (arrivedWhileLoading) {
      arrivedWhileLoading.push(c);
      return;
    }
    var old = rows.get(c.id);
    if (old && old.version > c.version) return;
    if (matches(c, filters())) putRow(c);
    else if (old) {
      rows.delete(c.id);
      layers.cases.remove(c.id);
    }
    scheduleRender();
    if (c.id === selected) refreshDetailSoon();
  }

  function slaCell(cell, c, now) {
    if (!c.deadline || config.open.indexOf(c.status) < 0) {
      cell.textContent = Core.label(config, "sla", c.sla_state);
      cell.className = "sla none";
      return;
    }
    var left = Date.parse(c.deadline) - now;
    var late = c.sla_state === "overdue" || c.sla_state === "escalated" || left < 0;
    cell.textContent = Core.countdown(left);
    cell.className = "sla " + (late ? "overdue" : c.sla_state === "warning" || Date.parse(c.warn_at) <= now ? "warning" : "ok");
  }

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(function () {
      renderQueued = false;
      renderQueue();
    });
  }

  function renderQueue() {
    var body = byId("console-queue");
    var list = Array.from(rows.values()).sort(function (a, b) {
      return a.created_at < b.created_at ? 1 : -1;
    });
    var now = Date.now();
    body.textContent = "";
    list.forEach(function (c) {
      var tr = Core.el("tr", "sev-" + c.severity + (c.id === selected ? " selected" : ""));
      tr.setAttribute("data-case-id", c.id);
      tr.appendChild(Core.el("td", "num", c.number));
      tr.appendChild(Core.el("td", "title", c.title));
      var sev = Core.el("td");
      sev.appendChild(Core.el("span", "badge sev", Core.label(config, "severity", c.severity)));
      tr.appendChild(sev);
      var status = Core.el("td", "status", Core.label(config, "status", c.status));
      status.setAttribute("data-status", c.status);
      tr.appendChild(status);
      var sla = Core.el("td");
      slaCell(sla, c, now);
      tr.appendChild(sla);
      body.appendChild(tr);
    });
    byId("queue-count").textContent = list.length + " 件";
    publishRows(list);
  }

  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll("#console-queue tr").forEach(function (tr) {
      var c = rows.get(Number(tr.getAttribute("data-case-id")));
      if (c) slaCell(tr.lastChild, c, now);
    });
    var box = byId("detail-sla");
    if (box && detail) slaCell(box, detail, now);
  }

  /* The rows on screen, for the export callback (server side builds CSV/Excel from them). */
  function publishRows(list) {
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set) return;
    set("console-rows", {
      data: list.map(function (c) {
        return {
          number: c.number, title: c.title, category: c.category, severity: Core.label(config, "severity", c.severity),
          status: Core.label(config, "status", c.status), source: Core.label(config, "source", c.source),
          street: streets[c.street_id] || "", address: c.address, created_at: Core.time(c.created_at, config.tz, "short"),
          deadline: c.deadline ? Core.time(c.deadline, config.tz, "short") : "", sla: Core.label(config, "sla", c.sla_state),
        };
      }),
    });
  }

  /* ---- the selected case ---- */

  function select(id) {
    selected = id;
    scheduleRender();
    clearNearest();
    refreshDetail().then(function () {
      if (!detail) return;
      map.panTo([detail.lat, detail.lon]);
      showCaseCameras(detail);
    });
  }

  /* The cameras nearest the selected case, playing live in the detail pane (camera-tiles.js, via the relay). */
  var caseTiles = null;

  /* /api/cameras, read once (one request however many callers ask before it answers; again after a failure). */
  function allCameras() {
    if (!cameras) cameras = Core.api("/api/cameras").catch(function (error) { cameras = null; throw error; });
    return cameras;
  }

  /* The placed cameras of `list` as {cam, d}: nearest case `c` first, `d` metres away (without a case: in order). */
  function nearestFirst(list, c) {
    return list.filter(function (cam) { return cam.lat !== null && cam.lon !== null; })
      .map(function (cam) { return { cam: cam, d: c ? distance(cam, c) : 0 }; })
      .sort(function (a, b) { return a.d - b.d; });
  }

  function km(metres) {
    return (metres / 1000).toFixed(2) + " km";
  }

  function showCaseCameras(c) {
    allCameras().then(function (all) {
      if (!detail || detail.id !== c.id) return;
      var near = nearestFirst(all.filter(function (cam) { return cam.online; }), c);
      var box = byId("case-cameras");
      box.hidden = !near.length;
      if (!caseTiles) {
        caseTiles = window.CameraTiles.attach(box, { api: Core.api, iceServers: config.ice_servers || [] },
                                              Core.onStatus);
        window.consolePage.caseTiles = caseTiles;
      }
      caseTiles.assign(near.map(function (n) {
        return Object.assign({}, n.cam, { label: n.cam.name + " · " + km(n.d) });
      }));
    }, function (error) {
      showResult(false, "读取摄像头失败：" + Core.describeError(error));
    });
  }

  function refreshDetailSoon() {
    clearTimeout(detailTimer);
    detailTimer = setTimeout(refreshDetail, 150);
  }

  function refreshDetail() {
    var id = selected;
    if (id === null) return Promise.resolve();
    return Promise.all([
      Core.api("/api/cases/" + id),
      Core.api("/api/cases/" + id + "/timeline"),
      Core.api("/api/cases/" + id + "/attachments"),
    ]).then(function (answers) {
      if (id !== selected) return;
      detail = answers[0];
      renderDetail(answers[0], answers[1], answers[2]);
      markSelected(answers[0]);
    }).catch(function (error) {
      showResult(false, "读取案件失败：" + Core.describeError(error));
    });
  }

  function markSelected(c) {
    if (!layers.selection) {
      layers.selection = window.L.circleMarker([c.lat, c.lon], {
        pane: Core.livePane(map), radius: 18, color: "#29d3ff", weight: 3, fill: false, interactive: false,
      }).addTo(map);
    }
    layers.selection.setLatLng([c.lat, c.lon]);
  }

  function fact(grid, name, value) {
    grid.appendChild(Core.el("dt", null, name));
    var dd = Core.el("dd", null, value === null || value === undefined || value === "" ? "—" : String(value));
    grid.appendChild(dd);
    return dd;
  }

  function orderState(timeline, c) {
    var state = null;
    var info = "";
    timeline.forEach(function (e) {
      var data = e.data || {};
      if ((e.action === "dispatch" || e.action === "redispatch") && data.worker) {
        state = "sent";
        info = workerName(data.worker);
      } else if (e.action === "order_accepted") {
        state = "accepted";
        info = workerName(data.worker);
      } else if (e.action === "order_declined") {
        state = "declined";
        info = workerName(data.worker);
      } else if (e.action === "dispatch_fallback") {
        state = "fallback";
        info = workerName(data.from_worker) + " → " + workerName(data.to_worker);
      } else if (e.action === "dispatch_unassigned") {
        state = "unassigned";
        info = "";
      }
    });
    if (state === "declined" && c.worker_id) state = "fallback";
    return state ? { state: state, info: info } : null;
  }

  function workerName(id) {
    if (!id) return "—";
    var w = workers[id];
    return w ? w.name + "（" + w.code + "）" : "人员 " + id;
  }

  function renderDetail(c, timeline, attachments) {
    var box = byId("case-detail");
    box.textContent = "";
    box.setAttribute("data-case-id", c.id);
    var head = Core.el("div", "detail-head sev-" + c.severity);
    head.appendChild(Core.el("span", "badge sev", Core.label(config, "severity", c.severity)));
    head.appendChild(Core.el("h3", null, c.title));
    var status = Core.el("span", "badge status", Core.label(config, "status", c.status));
    status.setAttribute("data-status", c.status);
    status.id = "detail-status";
    head.appendChild(status);
    box.appendChild(head);

    var grid = Core.el("dl", "facts");
    fact(grid, "编号", c.number);
    fact(grid, "类别", c.category);
    fact(grid, "来源", Core.label(config, "source", c.source));
    fact(grid, "街道", streets[c.street_id]);
    fact(grid, "地址", c.address);
    fact(grid, "上报时间", Core.time(c.created_at, config.tz, "short"));
    fact(grid, "处置部门", (departments.find(function (d) { return d.id === c.department_id; }) || {}).name);
    var assigned = fact(grid, "处置人员", c.worker_id ? workerName(c.worker_id) : "");
    if (c.worker_id) assigned.appendChild(callButton(c.worker_id, c));
    fact(grid, "当前阶段时限", c.deadline ? Core.time(c.deadline, config.tz, "short") : "");
    var sla = fact(grid, "剩余时间", "");
    sla.id = "detail-sla";
    slaCell(sla, c, Date.now());
    box.appendChild(grid);
    if (c.description) box.appendChild(Core.el("p", "description", c.description));

    box.appendChild(actionsPanel(c));
    box.appendChild(dispatchPanel(c, orderState(timeline, c)));
    renderNearest(c);

    box.appendChild(Core.el("h4", null, "处置时间轴"));
    var list = Core.el("ol", "timeline");
    list.id = "case-timeline";
    timeline.slice().reverse().forEach(function (e) {
      var item = Core.el("li");
      item.setAttribute("data-action", e.action);
      item.appendChild(Core.el("span", "when", Core.time(e.at, config.tz, "short")));
      item.appendChild(Core.el("span", "what", Core.label(config, "action", e.action)));
      var change = e.from_status !== e.to_status && e.to_status
        ? Core.label(config, "status", e.from_status) + " → " + Core.label(config, "status", e.to_status) : "";
      item.appendChild(Core.el("span", "change", change));
      item.appendChild(Core.el("span", "who", e.actor));
      if (e.note) item.appendChild(Core.el("div", "note", e.note));
      list.appendChild(item);
    });
    box.appendChild(list);

    box.appendChild(Core.el("h4", null, "附件"));
    var files = Core.el("ul", "attachments");
    attachments.forEach(function (a) {
      var li = Core.el("li");
      var link = Core.el("a", null, a.name + "（" + Math.ceil(a.size / 1024) + " KB）");
      link.href = "#";
      link.addEventListener("click", function (event) {
        event.preventDefault();
        downloadAttachment(a);
      });
      li.appendChild(link);
      files.appendChild(li);
    });
    if (!attachments.length) files.appendChild(Core.el("li", "empty", "无附件"));
    box.appendChild(files);
  }

  function downloadAttachment(a) {
    var headers = {};
    var token = Core.token();
    if (token) headers.Authorization = "Bearer " + token;
    fetch(a.url, { headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.blob();
      })
      .then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = a.name;
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 5000);
      })
      .catch(function (error) {
        showResult(false, "下载附件失败：" + error.message);
      });
  }

  /* ---- actions ---- */

  function option(value, text) {
    var node = Core.el("option", null, text);
    node.value = value;
    return node;
  }

  function actionsPanel(c) {
    var panel = Core.el("div", "actions-panel");
    panel.appendChild(Core.el("h4", null, "办理"));
    var form = Core.el("div", "action-form");
    var note = Core.el("textarea", "field");
    note.id = "act-note";
    note.placeholder = "办理意见 / 原因（作废、回退、挂账、督办等需要填写）";
    form.appendChild(note);
    var row = Core.el("div", "field-row");
    var department = Core.el("select", "field");
    department.id = "act-department";
    department.appendChild(option("", "处置部门（按规则）"));
    departments.forEach(function (d) { department.appendChild(option(d.id, d.name)); });
    row.appendChild(department);
    var severity = Core.el("select", "field");
    severity.id = "act-severity";
    severity.appendChild(option("", "等级（不变）"));
    Object.keys(config.labels.severity).forEach(function (code) { severity.appendChild(option(code, config.labels.severity[code])); });
    row.appendChild(severity);
    var score = Core.el("select", "field");
    score.id = "act-score";
    score.appendChild(option("", "评价分"));
    [5, 4, 3, 2, 1].forEach(function (n) { score.appendChild(option(n, n + " 分")); });
    row.appendChild(score);
    var hours = Core.el("input", "field");
    hours.id = "act-hours";
    hours.type = "number";
    hours.min = "1";
    hours.placeholder = "延期小时";
    row.appendChild(hours);
    var into = Core.el("input", "field");
    into.id = "act-into";
    into.placeholder = "并入案件编号";
    row.appendChild(into);
    form.appendChild(row);
    panel.appendChild(form);

    var buttons = Core.el("div", "action-buttons");
    (c.allowed_actions || []).forEach(function (action) {
      if (action === "verify") {
        buttons.appendChild(actionButton(c, "verify", "核查通过", { passed: true }));
        buttons.appendChild(actionButton(c, "verify", "核查不通过", { passed: false }, "danger"));
        return;
      }
      var danger = ["void", "return", "rework", "suspend", "extend_reject"].indexOf(action) >= 0;
      buttons.appendChild(actionButton(c, action, Core.label(config, "action", action), {}, danger ? "danger" : ""));
    });
    if (!(c.allowed_actions || []).length) buttons.appendChild(Core.el("span", "muted", "当前状态无可办理操作"));
    panel.appendChild(buttons);
    return panel;
  }

  function collect(action) {
    var body = {};
    (ACTION_FIELDS[action] || []).forEach(function (field) {
      var node = byId("act-" + field);
      if (!node || node.value === "") return;
      if (field === "department" || field === "score") body[field] = Number(node.value);
      else if (field === "hours") body[field] = Number(node.value);
      else if (field === "into") body[field] = /^\d+$/.test(node.value) && node.value.length < 10 ? Number(node.value) : node.value.trim();
      else body[field] = node.value;
    });
    return body;
  }

  function actionButton(c, action, text, extra, tone) {
    var button = Core.el("button", "btn " + (tone || ""), text);
    button.setAttribute("data-action", action);
    button.addEventListener("click", function () {
      perform(c.id, action, Object.assign(collect(action), extra), text);
    });
    return button;
  }

  function perform(id, action, body, text) {
    document.querySelectorAll(".action-buttons .btn, .nearest .btn").forEach(function (b) { b.disabled = true; });
    return Core.api("/api/cases/" + id + "/actions/" + action, { method: "POST", body: body })
      .then(function (c) {
        showResult(true, "「" + text + "」已完成：" + c.number + " 现为 " + Core.label(config, "status", c.status));
        applyCase(c);
        return refreshDetail();
      })
      .catch(function (error) {
        showResult(false, "「" + text + "」被拒绝：" + Core.describeError(error));
        document.querySelectorAll(".action-buttons .btn, .nearest .btn").forEach(function (b) { b.disabled = false; });
      });
  }

  function showResult(ok, text) {
    var box = byId("action-result");
    box.textContent = text;
    box.className = "action-result " + (ok ? "ok" : "refused");
    box.setAttribute("data-result", ok ? "ok" : "refused");
  }

  /* ---- dispatch to the nearest available worker ---- */

  function dispatchPanel(c, order) {
    var panel = Core.el("div", "dispatch-panel");
    var head = Core.el("div", "dispatch-head");
    head.appendChild(Core.el("h4", null, "就近派遣"));
    var find = Core.el("button", "btn ghost", "查找就近人员");
    find.id = "find-nearest";
    find.addEventListener("click", function () { findNearest(c); });
    head.appendChild(find);
    panel.appendChild(head);
    var state = Core.el("div", "order-state");
    state.id = "order-status";
    if (order) {
      state.setAttribute("data-order-state", order.state);
      state.appendChild(Core.el("span", "badge order-" + order.state, ORDER_TEXT[order.state]));
      state.appendChild(Core.el("span", "muted", order.info));
    } else {
      state.appendChild(Core.el("span", "muted", "尚未派单"));
    }
    panel.appendChild(state);
    var list = Core.el("ol", "nearest");
    list.id = "nearest-list";
    panel.appendChild(list);
    return panel;
  }

  function clearNearest() {
    if (layers.nearest) layers.nearest.clearLayers();
  }

  function findNearest(c) {
    var list = byId("nearest-list");
    list.textContent = "";
    list.appendChild(Core.el("li", "muted", "查询中…"));
    Core.api("/api/workers/nearest?k=5&lat=" + c.lat + "&lon=" + c.lon)
      .then(function (found) {
        nearest = { caseId: c.id, found: found };
        renderNearest(c);
        if (found.length) map.fitBounds(layers.nearest.getBounds().extend([c.lat, c.lon]), { padding: [60, 60], maxZoom: 16 });
      })
      .catch(function (error) {
        list.textContent = "";
        showResult(false, "查询就近人员失败：" + Core.describeError(error));
      });
  }

  /* The nearest workers found for the selected case, in the list and on the map (kept across re-renders). */
  function renderNearest(c) {
    var list = byId("nearest-list");
    if (!list || !nearest || nearest.caseId !== c.id) return;
    list.textContent = "";
    clearNearest();
    var canDispatch = (c.allowed_actions || []).some(function (a) { return a === "dispatch" || a === "redispatch"; });
    nearest.found.forEach(function (w, i) {
      var label = (w.distance_m / 1000).toFixed(2) + " km · 约 " + Math.max(1, Math.round(w.eta_s / 60)) + " 分钟";
      window.L.polyline([[c.lat, c.lon], [w.lat, w.lon]], { color: "#29d3ff", weight: 2, dashArray: "6 6", interactive: false, pane: Core.livePane(map) })
        .addTo(layers.nearest);
      window.L.circleMarker([w.lat, w.lon], { radius: 9, color: "#ffffff", weight: 2, fillColor: "#3ddc97", fillOpacity: 1, pane: Core.livePane(map) })
        .bindTooltip((i + 1) + ". " + w.name + "  " + label, { permanent: true, direction: "right", className: "nearest-tip" })
        .addTo(layers.nearest);
      var item = Core.el("li");
      item.setAttribute("data-worker-id", w.worker_id);
      item.appendChild(Core.el("span", "rank", String(i + 1)));
      item.appendChild(Core.el("span", "name", w.name + "（" + w.code + "）"));
      item.appendChild(Core.el("span", "dist", label));
      var go = Core.el("button", "btn", "派遣");
      go.disabled = !canDispatch;
      go.addEventListener("click", function () {
        var action = detail.status === "registered" ? "dispatch" : "redispatch";
        perform(c.id, action, { worker: w.worker_id }, "派遣给 " + w.name);
      });
      item.appendChild(go);
      item.appendChild(callButton(w.worker_id, c));
      list.appendChild(item);
    });
    if (!nearest.found.length) list.appendChild(Core.el("li", "muted", "附近没有可用人员"));
  }

  /* ---- video calls: one WallCalls client (calls.js), the docked call panel ---- */

  var calls = null;
  var callCase = null; // the case the call is about (cameras near it are offered)
  var callError = null; // {state, text}: a call refused before it began (busy, …)
  var cameras = null; // a promise of /api/cameras, read once when a camera is first offered (allCameras)

  function callButton(workerId, c) {
    var button = Core.el("button", "btn ghost call-worker", "呼叫");
    button.setAttribute("data-worker-id", workerId);
    button.addEventListener("click", function () { startCall(workerId, c); });
    return button;
  }

  function startCall(workerId, c) {
    if (calls.callId) return showResult(false, "已在通话中，请先挂断或用「添加参与方」邀请");
    callCase = c;
    callError = null;
    calls.snapshot = null;
    byId("call-panel").hidden = false;
    renderCall({ state: "ringing", text: "呼叫 " + workerName(workerId) + " …" });
    calls.call(workerId, { caseId: c ? c.id : null }).catch(function (error) {
      var busy = error.message === "busy";
      callError = { state: busy ? "busy" : "failed",
                    text: (busy ? WallCalls.reasonText("busy") : "呼叫失败") + "：" + Core.describeError(error) };
      renderCall();
    });
  }

  function callStatus() {
    if (callError) return callError;
    return WallCalls.status(calls.snapshot, calls.participant);
  }

  function renderCall(status) {
    status = status || callStatus();
    var panel = byId("call-panel");
    var live = Boolean(calls.callId);
    panel.setAttribute("data-state", status.state);
    var badge = byId("call-state");
    badge.setAttribute("data-state", status.state);
    badge.textContent = status.text;
    var snapshot = calls.snapshot;
    byId("call-title").textContent = snapshot && snapshot.kind === "session" ? "会商" : "视频通话";
    var me = calls.me();
    ["audio", "video"].forEach(function (kind) {
      var button = byId("call-mute-" + kind);
      button.disabled = !live;
      button.setAttribute("aria-pressed", String(Boolean(me && me.muted[kind])));
    });
    byId("call-hangup").disabled = !live;
    byId("call-hangup").textContent = snapshot && snapshot.kind === "session" ? "结束会商" : "挂断";
    byId("call-add-toggle").disabled = !live || status.state !== "connected";
    if (!live) byId("call-add").hidden = true;
    byId("call-close").hidden = live;
    var local = byId("call-local");
    if (local.srcObject !== calls.localStream) local.srcObject = calls.localStream;
    renderRemote();
    renderParticipants(snapshot);
  }

  function muteMarks(p) {
    return (p.muted.audio ? "〔静音〕" : "") + (p.muted.video ? "〔无画面〕" : "");
  }

  function renderRemote() {
    var box = byId("call-remote");
    if (!calls.callId) {
      box.textContent = "";
      return;
    }
    Object.keys(calls.remote).forEach(function (slot) {
      var figure = box.querySelector('figure[data-slot="' + slot + '"]');
      if (!figure) {
        figure = Core.el("figure");
        figure.setAttribute("data-slot", slot);
        var video = Core.el("video");
        video.autoplay = true;
        video.playsInline = true;
        figure.appendChild(video);
        figure.appendChild(Core.el("figcaption"));
        box.appendChild(figure);
      }
      var player = figure.querySelector("video");
      if (player.srcObject !== calls.remote[slot]) player.srcObject = calls.remote[slot];
      var who = calls.shownIn(Number(slot));
      figure.hidden = !who;
      figure.setAttribute("data-participant-id", who ? who.id : "");
      figure.setAttribute("data-muted-audio", String(Boolean(who && who.muted.audio)));
      figure.setAttribute("data-muted-video", String(Boolean(who && who.muted.video)));
      figure.querySelector("figcaption").textContent = who ? who.label + muteMarks(who) : "";
    });
  }

  var SEAT_TEXT = {
    invited: "振铃中", connecting: "连接中", connected: "已接通", reconnecting: "重连中", left: "已离开",
    busy: "忙", declined: "已拒接", missed: "未接听",
  };
  var KIND_TEXT = { commander: "指挥", worker: "人员", department: "部门", camera: "摄像头" };

  function renderParticipants(snapshot) {
    var list = byId("call-participants");
    list.textContent = "";
    if (!snapshot) return;
    var transcoded = snapshot.transcoded || [];
    snapshot.participants.forEach(function (p) {
      var item = Core.el("li");
      item.setAttribute("data-participant-id", p.id);
      item.setAttribute("data-kind", p.kind);
      item.setAttribute("data-state", p.state);
      item.appendChild(Core.el("span", "kind", KIND_TEXT[p.kind] || p.kind));
      item.appendChild(Core.el("span", "name", p.label + (p.id === calls.participant ? "（我）" : "") + muteMarks(p)));
      item.appendChild(Core.el("span", "seat seat-" + p.state, SEAT_TEXT[p.state] || p.state));
      var pairs = transcoded.filter(function (t) { return t.from === p.id; });
      if (pairs.length) {
        var mark = Core.el("span", "transcoded", "转码 " + pairs[0].codecs);
        mark.title = "发往 " + pairs.length + " 方时需转码";
        item.setAttribute("data-transcoded", "true");
        item.appendChild(mark);
      }
      if (p.kind === "camera" && calls.callId && p.state !== "left") {
        var out = Core.el("button", "btn ghost", "移除");
        out.addEventListener("click", function () { calls.remove(p.id).catch(callRefused); });
        item.appendChild(out);
      }
      list.appendChild(item);
    });
  }

  function callRefused(error) {
    showResult(false, "通话操作被拒绝：" + Core.describeError(error));
  }

  function distance(a, b) {
    return Core.distance(a.lat, a.lon, b.lat, b.lon);
  }

  /* The add-participant choices: nearest workers first, then every worker; departments; cameras nearest the case. */
  function fillAddChoices() {
    var select = byId("call-add-who");
    select.textContent = "";
    var inCall = {};
    ((calls.snapshot && calls.snapshot.participants) || []).forEach(function (p) {
      if (p.state !== "left") inCall[p.kind + ":" + (p.worker_id || p.department_id || p.label)] = true;
    });
    var group = function (label, items) {
      var node = Core.el("optgroup");
      node.label = label;
      items.forEach(function (item) { if (!inCall[item[0]]) node.appendChild(option(item[0], item[1])); });
      if (node.children.length) select.appendChild(node);
    };
    var near = nearest && callCase && nearest.caseId === callCase.id ? nearest.found : [];
    var nearIds = near.map(function (w) { return w.worker_id; });
    group("就近人员", near.map(function (w) { return ["worker:" + w.worker_id, w.name + "（" + w.code + "）"]; }));
    group("人员", Object.keys(workers).map(function (id) { return workers[id]; })
      .filter(function (w) { return nearIds.indexOf(w.id) < 0; })
      .sort(function (a, b) { return a.name < b.name ? -1 : 1; })
      .map(function (w) { return ["worker:" + w.id, w.name + "（" + w.code + "）"]; }));
    group("部门", departments.map(function (d) { return ["department:" + d.id, d.name]; }));
    return allCameras().then(function (all) {
      group("摄像头" + (callCase ? "（案件附近）" : ""), nearestFirst(all, callCase).slice(0, 8).map(function (n) {
        var away = callCase ? " · " + km(n.d) : "";
        return ["camera:" + n.cam.id, n.cam.name + (n.cam.online ? "" : "（离线）") + away];
      }));
    }, callRefused);
  }

  function addParticipant() {
    var value = byId("call-add-who").value;
    if (!value) return;
    var kind = value.split(":")[0];
    var id = Number(value.split(":")[1]);
    var done = kind === "camera" ? calls.addCamera(id)
      : calls.invite([kind === "worker" ? { worker_id: id } : { department_id: id }]);
    byId("call-add-go").disabled = true;
    done.then(function () {
      byId("call-add").hidden = true;
    }, callRefused).then(function () { byId("call-add-go").disabled = false; });
  }

  /* ---- the department desk: a commander answers invitations to one department's seat (department.<id>) ---- */

  var desk = null; // the department id this console answers for
  var deskHub = null;
  var incoming = null; // the call.invite waiting for an answer here

  function setDesk(value) {
    var hub = deskHub;
    if (desk && hub) hub.unsubscribe("department." + desk);
    desk = value ? Number(value) : null;
    try { window.localStorage.setItem("wall.console.desk", desk ? String(desk) : ""); } catch (e) { /* private mode */ }
    if (desk && hub) hub.subscribe("department." + desk);
    byId("desk-department").value = desk ? String(desk) : "";
  }

  function fillDesk() {
    var select = byId("desk-department");
    departments.forEach(function (d) { select.appendChild(option(d.id, "部门值守：" + d.name)); });
    var wanted = new URLSearchParams(window.location.search).get("desk");
    if (wanted === null) {
      try { wanted = window.localStorage.getItem("wall.console.desk"); } catch (e) { wanted = null; }
    }
    Core.onHub(function () {}).then(function (hub) {
      deskHub = hub;
      setDesk(wanted || "");
    });
    select.addEventListener("change", function () { setDesk(select.value); });
  }

  function showIncoming(invite) {
    if (calls.callId || !invite || !desk) return; // a commander hears invitations on department.<desk> only
    incoming = invite;
    var dept = (departments.find(function (d) { return d.id === desk; }) || {}).name || "部门";
    byId("call-incoming-text").textContent = "来电：" + invite.from + " 邀请「" + dept + "」加入" +
      (invite.kind === "session" ? "会商" : "通话");
    byId("call-incoming").hidden = false;
    byId("call-panel").hidden = false;
    renderCall({ state: "incoming", text: "来电" });
  }

  function closeIncoming(data) {
    if (!incoming || (data && data.call !== incoming.call)) return;
    incoming = null;
    byId("call-incoming").hidden = true;
    if (!calls.callId) {
      callError = data && data.reason !== "answered" ? { state: data.reason || "ended",
                                                         text: WallCalls.reasonText(data.reason) } : null;
      renderCall();
    }
  }

  function answerIncoming() {
    var invite = incoming;
    if (!invite) return;
    closeIncoming();
    callCase = null;
    callError = null;
    calls.accept(invite.call, invite.participant).catch(callRefused);
  }

  function refuseIncoming() {
    var invite = incoming;
    if (!invite) return;
    closeIncoming({ call: invite.call, reason: "declined" });
    calls.decline(invite.call, "declined", invite.participant).catch(callRefused);
  }

  function setupCalls() {
    calls = new WallCalls({ slots: 3 });
    window.consolePage.calls = calls;
    calls.on("invite", showIncoming);
    calls.on("invite_closed", closeIncoming);
    byId("call-answer").addEventListener("click", answerIncoming);
    byId("call-refuse").addEventListener("click", refuseIncoming);
    ["state", "remote", "ended"].forEach(function (name) { calls.on(name, function () { renderCall(); }); });
    calls.on("error", callRefused);
    ["audio", "video"].forEach(function (kind) {
      var button = byId("call-mute-" + kind);
      button.addEventListener("click", function () {
        var what = {};
        what[kind] = button.getAttribute("aria-pressed") !== "true";
        calls.mute(what).catch(callRefused);
      });
    });
    byId("call-hangup").addEventListener("click", function () {
      calls.hangup({ all: Boolean(calls.snapshot && calls.snapshot.kind === "session") }).catch(callRefused);
    });
    byId("call-close").addEventListener("click", function () {
      callError = null;
      byId("call-panel").hidden = true;
    });
    byId("call-add-toggle").addEventListener("click", function () {
      var box = byId("call-add");
      box.hidden = !box.hidden;
      if (!box.hidden) fillAddChoices();
    });
    byId("call-add-go").addEventListener("click", addParticipant);
  }

  /* ---- the hub ---- */

  var trackWorkers = null;

  function onHub(message) {
    trackWorkers(message);
    if (message.op === "subscribed" && !message.recovered && message.topic === "cases") {
      loadQueue().then(function () { if (selected !== null) refreshDetail(); });
    } else if (message.op === "event" && message.topic === "cases") {
      applyCase(message.data);
    }
  }

  function start() {
    Core = window.WallCore;
    setupCalls();
    Promise.all([Core.api("/api/streets"), Core.api("/api/departments"), Core.api("/api/workers")])
      .then(function (answers) {
        var street = byId("f-street");
        answers[0].forEach(function (s) {
          streets[s.id] = s.name;
          street.appendChild(option(s.id, s.name));
        });
        departments = answers[1];
        fillDesk();
        answers[2].forEach(function (w) { workers[w.id] = w; });
        byId("console-who").textContent = "";
      })
      .catch(function (error) {
        byId("console-who").textContent = "未授权：" + Core.describeError(error);
      });
    byId("console-queue").addEventListener("click", function (event) {
      var tr = event.target.closest("tr[data-case-id]");
      if (tr) select(Number(tr.getAttribute("data-case-id")));
    });
    ["f-status", "f-severity", "f-street", "f-sla"].forEach(function (id) {
      byId(id).addEventListener("change", loadQueue);
    });
    var typing = null;
    byId("f-q").addEventListener("input", function () {
      clearTimeout(typing);
      typing = setTimeout(loadQueue, 300);
    });
    Core.whenMap("console-map").then(function (leaflet) {
      map = leaflet;
      map.fitBounds(config.bounds);
      var pane = Core.livePane(map);
      layers.workers = Core.pointLayer({ pane: pane, clusterBelowZoom: 12.5, font: "bold 13px sans-serif", clusterPx: 50 }).addTo(map);
      layers.cases = Core.pointLayer({ pane: pane, clusterBelowZoom: 12.5, font: "bold 13px sans-serif", clusterPx: 44, onClick: select }).addTo(map);
      layers.nearest = window.L.featureGroup().addTo(map);
      window.consolePage.layers = layers;
      trackWorkers = Core.trackWorkers(layers.workers, 1.1, null);
      Core.onHub(onHub).then(function (hub) {
        hub.subscribe("cases");
        hub.subscribe("positions");
      });
      setInterval(tickCountdowns, 1000);
    });
  }

  window.consolePage = { rows: rows, select: select };
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    console: {
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
