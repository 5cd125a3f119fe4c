// The report page: reads the JSON block and builds every view with DOM calls. Corpus text is
// only ever assigned through textContent (never innerHTML), so it shows as text and runs nothing.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const docs = data.docs;
  const LIST_LIMIT = 200; // rows of the document list in the DOM at once: the page stays light on 100,000 ids
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "–");
  function bytes(n) {
    if (typeof n !== "number") return "–";
    if (n >= 1e9) return (n / 1e9).toFixed(2) + " GB";
    if (n >= 1e6) return (n / 1e6).toFixed(2) + " MB";
    if (n >= 1e3) return (n / 1e3).toFixed(1) + " kB";
    return n + " B";
  }
  const pct = (a, b) => (b ? ((100 * a) / b).toFixed(1) + "%" : "–");

  // -- overview -----------------------------------------------------------------------------
  function card(value, label) {
    const c = el("div", { class: "card" });
    c.appendChild(el("div", { class: "value" }, value));
    c.appendChild(el("div", { class: "label" }, label));
    return c;
  }
  function barChart(title, rows, id) {
    // rows: [label, value, shown text, warn?]
    const box = el("div", { class: "chart", id: id });
    box.appendChild(el("h3", null, title));
    if (!rows.length) {
      box.appendChild(el("p", { class: "hint" }, "nothing to show"));
      return box;
    }
    const width = 420, labelW = 150, rowH = 22, valueW = 90;
    const max = Math.max(...rows.map((r) => r[1]), 1e-12);
    const svg = svgEl("svg", { width: width, height: rows.length * rowH + 4, viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, role: "img" });
    svg.appendChild(svgEl("title", {}, title));
    rows.forEach((r, k) => {
      const y = k * rowH + 2;
      const label = r[0].length > 22 ? r[0].slice(0, 21) + "…" : r[0];
      svg.appendChild(svgEl("text", { x: labelW - 6, y: y + 15, "text-anchor": "end" }, label));
      const w = Math.max(1, ((width - labelW - valueW) * r[1]) / max);
      const bar = svgEl("rect", { x: labelW, y: y + 3, width: r[1] > 0 ? w : 0, height: rowH - 8, rx: 2, class: r[3] ? "bar warn" : "bar" });
      bar.appendChild(svgEl("title", {}, `${r[0]}: ${r[2]}`));
      svg.appendChild(bar);
      svg.appendChild(svgEl("text", { x: labelW + (r[1] > 0 ? w : 0) + 6, y: y + 15 }, r[2]));
    });
    box.appendChild(svg);
    return box;
  }
  function buildOverview() {
    const o = data.overview;
    const info = document.getElementById("run-info");
    info.textContent = `report ${data.report}` + (data.in_root ? ` · IN ${data.in_root}` : "") + (data.out_root ? ` · OUT ${data.out_root}` : "");
    const dropped = o.docs_in - o.docs_kept;
    const cards = document.getElementById("cards");
    cards.appendChild(card(fmt(o.docs_in), "documents in" + (o.inputs != null ? ` (${fmt(o.inputs)} input files)` : "")));
    cards.appendChild(card(fmt(o.docs_kept), `kept (${pct(o.docs_kept, o.docs_in)})`));
    cards.appendChild(card(fmt(dropped), "dropped" + (o.rejected ? `, ${fmt(o.rejected)} rejected inputs` : "")));
    cards.appendChild(card(`${bytes(o.bytes_in)} → ${bytes(o.bytes_out)}`, "bytes in → out"));
    cards.appendChild(card(`${fmt(o.converted)} / ${fmt(o.traditional)}`, `traditional documents converted (${pct(o.traditional, o.docs_in)} of documents traditional)`));
    const charts = document.getElementById("charts");
    const docRows = [["kept", o.docs_kept, fmt(o.docs_kept)]];
    for (const [reason, n] of o.dropped) docRows.push(["dropped: " + reason, n, fmt(n), true]);
    charts.appendChild(barChart("Documents: kept and dropped by reason", docRows, "chart-docs"));
    charts.appendChild(barChart("Bytes", [["in", o.bytes_in || 0, bytes(o.bytes_in)], ["out", o.bytes_out || 0, bytes(o.bytes_out)]], "chart-bytes"));
    charts.appendChild(barChart("Encodings found (documents)", o.encodings.map(([e, n]) => [e, n, `${fmt(n)} (${pct(n, o.docs_in)})`]), "chart-encodings"));
    charts.appendChild(barChart("Script", [
      ["simplified or other", o.docs_in - o.traditional, fmt(o.docs_in - o.traditional)],
      ["traditional", o.traditional, fmt(o.traditional)],
      ["traditional, converted", o.converted, `${fmt(o.converted)} (${pct(o.converted, o.traditional)})`],
    ], "chart-script"));
    const total = o.stages.reduce((a, s) => a + (s.seconds || 0), 0);
    charts.appendChild(barChart("Time per stage", o.stages.map((s) => [s.stage, s.seconds || 0, `${(s.seconds || 0).toFixed(2)} s (${pct(s.seconds || 0, total)})`]), "chart-time"));
    charts.appendChild(barChart("Characters changed per stage", o.stages.map((s) => [s.stage, s.chars_changed || 0, `${fmt(s.chars_changed || 0)} in ${fmt(s.docs_changed || 0)} docs`]), "chart-chars"));
    charts.appendChild(barChart("Lines removed per stage", o.stages.filter((s) => s.lines_removed).map((s) => [s.stage, s.lines_removed, fmt(s.lines_removed)]), "chart-lines"));
  }

  // -- rules --------------------------------------------------------------------------------
  function docButton(index) {
    const b = el("button", { class: "link", type: "button", title: "open the document" }, docs.ids[index]);
    b.addEventListener("click", () => { location.hash = "doc=" + index; });
    return b;
  }
  function sampleNode(rule, s) {
    const p = el("div", { class: "sample" });
    if (rule.group === "repair") {
      p.appendChild(el("del", null, s.before));
      p.appendChild(document.createTextNode(" → "));
      p.appendChild(el("ins", null, s.after === "" ? "∅" : s.after));
      if (s.detail) p.appendChild(el("span", { class: "detail" }, " " + s.detail));
    } else {
      p.appendChild(el("span", { class: "removed" }, s.text));
      if (s.line != null) p.appendChild(el("span", { class: "detail" }, ` line ${s.line}`));
    }
    p.appendChild(docButton(s.doc));
    return p;
  }
  function buildRules() {
    const body = document.querySelector("#rules-table tbody");
    const n = data.overview.docs_in || 1;
    data.rules.forEach((rule) => {
      const tr = el("tr", { "data-rule": `${rule.group}:${rule.name}`, class: "rule-row" });
      const g = el("td");
      g.appendChild(el("span", { class: "group" }, rule.group));
      tr.appendChild(g);
      tr.appendChild(el("td", null, rule.name));
      tr.appendChild(el("td", { class: "num" }, fmt(rule.fired)));
      tr.appendChild(el("td", { class: "num" }, fmt(rule.docs)));
      const share = el("td");
      const frac = rule.docs / n;
      share.appendChild(el("span", { class: frac > 0.5 && rule.group !== "drop" ? "share high" : "share", style: `width:${Math.max(2, Math.round(120 * frac))}px` }));
      share.appendChild(document.createTextNode(" " + pct(rule.docs, n)));
      tr.appendChild(share);
      const td = el("td");
      // Two samples in view, so a rule that takes body text shows it at a glance; the rest folded.
      rule.samples.slice(0, 2).forEach((s) => td.appendChild(sampleNode(rule, s)));
      if (rule.samples.length > 2) {
        const d = el("details");
        d.appendChild(el("summary", null, `${rule.samples.length - 2} more`));
        rule.samples.slice(2).forEach((s) => d.appendChild(sampleNode(rule, s)));
        td.appendChild(d);
      }
      tr.appendChild(td);
      body.appendChild(tr);
    });
    const search = document.getElementById("rule-search");
    search.addEventListener("input", () => {
      const q = search.value.trim().toLowerCase();
      for (const tr of body.children) tr.hidden = q !== "" && !tr.getAttribute("data-rule").toLowerCase().includes(q);
    });
  }

  // -- documents ----------------------------------------------------------------------------
  const lowerIds = docs.ids.map((s) => s.toLowerCase());
  const dupOf = new Map(docs.dup.map(([i, j]) => [i, j]));
  let current = -1;
  function hasDiff(i) { const d = data.diffs[String(i)]; return Boolean(d && d.rows); }
  function statusName(i) { return docs.statuses[docs.status[i]]; }
  function buildDocTools() {
    const select = document.getElementById("doc-status");
    select.appendChild(el("option", { value: "" }, "all statuses"));
    docs.statuses.forEach((s, k) => select.appendChild(el("option", { value: String(k) }, s)));
    let timer = 0;
    const later = () => { clearTimeout(timer); timer = setTimeout(renderList, 120); };
    document.getElementById("doc-search").addEventListener("input", later);
    select.addEventListener("change", renderList);
    document.getElementById("doc-diff-only").addEventListener("change", renderList);
  }
  function renderList() {
    const q = document.getElementById("doc-search").value.trim().toLowerCase();
    const st = document.getElementById("doc-status").value;
    const diffOnly = document.getElementById("doc-diff-only").checked;
    const list = document.getElementById("doc-list");
    list.replaceChildren();
    let matches = 0;
    for (let i = 0; i < lowerIds.length; i++) {
      if (q && !lowerIds[i].includes(q)) continue;
      if (st !== "" && docs.status[i] !== Number(st)) continue;
      if (diffOnly && !hasDiff(i)) continue;
      matches++;
      if (matches > LIST_LIMIT) continue;
      const li = el("li", { "data-doc": String(i) });
      li.appendChild(document.createTextNode(docs.ids[i]));
      const s = statusName(i);
      li.appendChild(el("span", { class: s === "kept" ? "badge" : "badge drop" }, s));
      if (hasDiff(i)) li.appendChild(el("span", { class: "badge diff" }, "diff"));
      if (i === current) li.className = "active";
      li.addEventListener("click", () => { location.hash = "doc=" + i; });
      list.appendChild(li);
    }
    if (matches > LIST_LIMIT) list.appendChild(el("li", { class: "more" }, `… ${fmt(matches - LIST_LIMIT)} more: narrow the search`));
    document.getElementById("doc-count").textContent = `${fmt(matches)} of ${fmt(docs.ids.length)} documents · ${fmt(data.limits.embedded)} with an embedded diff`;
  }
  function segmentNode(seg) {
    if (typeof seg === "string") return document.createTextNode(seg);
    const [before, after, label] = seg;
    const cls = label === "convert" || label === "normalize" ? label : "fix";
    // Conversion and normalisation change many characters: the output text alone keeps the
    // line readable (the input form is in the tooltip); a repair shows both sides.
    const span = el("span", { class: cls, title: `${label}: ${before || "∅"} → ${after || "∅"}` });
    if (cls === "fix") {
      if (before) span.appendChild(el("del", null, before));
      if (after) span.appendChild(el("ins", null, after));
    } else {
      span.textContent = after || "·";
    }
    return span;
  }
  function diffNode(rows) {
    const box = el("div", { class: "diff", id: "diff" });
    for (const row of rows) {
      const kind = row[0];
      const r = el("div", { class: "row " + { "=": "eq", "-": "del", "+": "ins", "~": "chg" }[kind] });
      r.appendChild(el("span", { class: "gutter" }, kind === "=" ? "" : kind));
      const text = el("span", { class: "text" });
      if (kind === "~") row[1].forEach((seg) => text.appendChild(segmentNode(seg)));
      else text.textContent = row[1];
      r.appendChild(text);
      if (kind === "-") r.appendChild(el("span", { class: row[2] ? "rule" : "rule none" }, row[2] || "no rule named"));
      else r.appendChild(el("span"));
      box.appendChild(r);
    }
    return box;
  }
  function openDoc(i) {
    if (!(i >= 0 && i < docs.ids.length)) return;
    current = i;
    for (const li of document.querySelectorAll("#doc-list li.active")) li.className = "";
    const li = document.querySelector(`#doc-list li[data-doc="${i}"]`);
    if (li) li.className = "active";
    const view = document.getElementById("doc-view");
    view.replaceChildren();
    view.appendChild(el("h2", null, docs.ids[i]));
    const meta = el("p");
    meta.appendChild(el("span", { class: statusName(i) === "kept" ? "badge" : "badge drop" }, statusName(i)));
    if (docs.encodings[docs.enc[i]]) meta.appendChild(el("span", { class: "badge" }, docs.encodings[docs.enc[i]]));
    const flagNames = ["repaired", "converted", "boilerplate removed", "repeats removed"];
    flagNames.forEach((name, bit) => { if (docs.flags[i] & (1 << bit)) meta.appendChild(el("span", { class: "badge" }, name)); });
    view.appendChild(meta);
    if (dupOf.has(i)) {
      const target = dupOf.get(i);
      const p = el("p", { class: "dup" }, "duplicate of ");
      if (typeof target === "number") p.appendChild(docButton(target));
      else if (target === null) p.appendChild(el("span", null, "a document outside this run"));
      else p.appendChild(el("code", null, target + " (outside this run)"));
      view.appendChild(p);
    }
    const entry = data.diffs[String(i)];
    if (!entry) {
      view.appendChild(el("p", { class: "hint" }, `No diff embedded for this document: the page embeds ${fmt(data.limits.embedded)} documents chosen to cover every rule. ` +
        "Build the page with --doc ID to embed this one."));
      return;
    }
    view.appendChild(el("p", { class: "hint" }, "input: " + entry.input));
    const notes = el("ul", { class: "notes" });
    entry.stages.forEach((n) => notes.appendChild(el("li", null, n)));
    view.appendChild(notes);
    if (entry.note) view.appendChild(el("p", { class: "hint" }, entry.note));
    if (entry.rows) {
      const legend = el("p", { class: "legend diff-legend" });
      const sampleOf = (kind) => (kind === "del" || kind === "ins" ? el(kind, null, "文字") : el("span", { class: kind }, "文字"));
      [["del", "removed (the rule on the right)"], ["ins", "only in the output"], ["fix", "repaired span"], ["convert", "converted"], ["normalize", "normalised"]].forEach(([kind, text]) => {
        const item = el("span");
        item.appendChild(sampleOf(kind));
        item.appendChild(document.createTextNode(" " + text));
        legend.appendChild(item);
      });
      view.appendChild(legend);
      view.appendChild(diffNode(entry.rows));
      if (entry.truncated) view.appendChild(el("p", { class: "hint" }, `cut at ${fmt(data.limits.side_chars)} characters a side`));
    }
  }

  // -- navigation ---------------------------------------------------------------------------
  const sections = ["overview", "rules", "docs"];
  function show(name) {
    sections.forEach((s) => {
      document.getElementById(s).hidden = s !== name;
      document.getElementById("tab-" + s).className = s === name ? "active" : "";
    });
  }
  function route() {
    const h = location.hash.replace(/^#/, "");
    if (h.startsWith("doc=")) {
      show("docs");
      openDoc(Number(h.slice(4)));
    } else show(sections.includes(h) ? h : "overview");
  }
  buildOverview();
  buildRules();
  buildDocTools();
  renderList();
  window.addEventListener("hashchange", route);
  route();
  document.body.setAttribute("data-ready", "1");
})();
