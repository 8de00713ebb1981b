/* The duty commander's console (/console/): the case queue with filters and live SLA countdowns, the
 * map, the selected case's detail, timeline and attachments, every action of the loop as a button
 * (refusals shown as they come back from the API), and the dispatch panel: nearest available workers
 * drawn on the map with distance and ETA, one-click dispatch and the state of the order. */
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
      if (detail) map.panTo([detail.lat, detail.lon]);
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
    fact(grid, "处置人员", c.worker_id ? workerName(c.worker_id) : "");
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
      list.appendChild(item);
    });
    if (!nearest.found.length) list.appendChild(Core.el("li", "muted", "附近没有可用人员"));
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
    Promise.all([Core.api("/api/streets"), Core.api("/api/departments"), Core.api("/api/workers")])
      .then(function (answers) {
        var street = byId("f-street");
        answers[0].forEach(function (s) {
          streets[s.id] = s.name;
          street.appendChild(option(s.id, s.name));
        });
        departments = answers[1];
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
