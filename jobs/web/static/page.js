// The gene page of linkscan: draws the sections that jobs/web/page.py describes in the
// JSON element #linkscan-data. The same script runs in the service (further pages and
// per-sample values come from the JSON endpoints) and in the offline report (they come
// from the data the report carries), behind one `source` object.
"use strict";

// The report inlines this script in its head: everything waits for the document.
(function (start) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(function () {
  const DATA = JSON.parse(document.getElementById("linkscan-data").textContent);
  const REPORT = DATA.mode === "report";
  // plotly draws with no link to plotly's site and no logo; zoom and hover stay.
  const PLOT_CONFIG = { displaylogo: false, responsive: true, showLink: false, showSendToCloud: false };
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                  "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#843c39", "#7b4173"];
  // the heatmap's colours: blue for negative, red for positive signed -log10 p
  const DIVERGING = [[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]];

  // ------------------------------------------------------------------ where data comes from

  const valueKey = (kind, row) =>
    JSON.stringify([kind, row.feature, row.omics || "", row.partner, row.partner_omics || ""]);

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  const serviceSource = {
    associations(kind, params) {
      const query = new URLSearchParams({ gene: DATA.gene, kind, ...params });
      return getJSON("/api/associations?" + query);
    },
    values(kind, row) {
      const query = new URLSearchParams({ kind, feature: row.feature, partner: row.partner });
      if (row.omics) query.set("omics", row.omics);
      if (row.partner_omics) query.set("partner_omics", row.partner_omics);
      return getJSON("/api/values?" + query);
    },
    genes(prefix) {
      return getJSON("/api/genes?" + new URLSearchParams({ prefix, limit: 20 }));
    },
  };

  // The report holds its rows and values; it sorts and pages within them the way the
  // service does: by |slogp| of the sort column, strongest first, rows without a value last.
  const reportSource = {
    associations(kind, params) {
      const section = DATA.sections.find((s) => s.kind === kind);
      const column = params.sort + "_slogp";
      const strength = (i) => {
        const v = section.rows[i][column];
        return v === null || v === undefined ? -1 : Math.abs(v);
      };
      const order = section.rows.map((_, i) => i).sort((a, b) => strength(b) - strength(a) || a - b);
      const page = order.slice(params.offset, params.offset + params.limit);
      return Promise.resolve({
        total: section.rows.length, offset: params.offset, sort: params.sort,
        rows: page.map((i) => section.rows[i]),
        table: { ...section.table, data: page.map((i) => section.table.data[i]) },
      });
    },
    values(kind, row) {
      const found = (DATA.values || {})[valueKey(kind, row)];
      return found ? Promise.resolve(found)
        : Promise.reject(new Error("this report carries the values of its rows only; linkscan serve plots every pair"));
    },
  };

  const source = REPORT ? reportSource : serviceSource;

  // ------------------------------------------------------------------ small helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== undefined && value !== null) node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  // A signed p from its signed -log10 (exact where the p itself is below the smallest
  // double, and 1 where slogp is 0, whose signed p reads 0), else from the value.
  function formatP(value, slogp) {
    if (typeof slogp !== "number") return value.toPrecision(2);
    const sign = slogp < 0 ? "-" : "";
    const strength = Math.abs(slogp);
    if (strength < 300) return sign + Math.pow(10, -strength).toPrecision(2);
    const exponent = Math.ceil(strength);
    return sign + Math.pow(10, exponent - strength).toFixed(1) + "e-" + exponent;
  }

  function formatCell(value, show, slogp) {
    if (value === null || value === undefined) return "";
    if (typeof value !== "number") return String(value);
    if (show === "p") return formatP(value, slogp);
    if (show === "slogp") return value.toFixed(2);
    if (show === "n") return String(Math.round(value));
    return value.toPrecision(3);
  }

  const pOf = (slogp) => (typeof slogp === "number" ? formatP(null, slogp) : null);

  function cellTitle(row, prefix) {
    if (!row) return null;
    const parts = [];
    const stat = row[prefix + "_stat"], n = row[prefix + "_n"], q = row[prefix + "_log10q"];
    if (typeof stat === "number") parts.push("effect " + stat.toPrecision(3));
    if (typeof row[prefix + "_slogp"] === "number") parts.push("p " + pOf(row[prefix + "_slogp"]));
    if (typeof q === "number") parts.push("q " + Math.pow(10, q).toPrecision(2));
    const nx = row[prefix + "_nx"];
    if (typeof n === "number" && typeof nx === "number" && row.x_group) {
      parts.push("n " + n + " (" + row.x_group + " " + nx + ", " + row.y_group + " " + (n - nx) + ")");
    } else if (typeof n === "number") parts.push("n " + n);
    if (prefix === "meta" && typeof row.n_cohorts === "number") parts.push(row.n_cohorts + " cohorts");
    return parts.join(", ") || null;
  }

  function strongestCohort(row, cohorts) {
    let best = cohorts[0], strength = -1;
    for (const cohort of cohorts) {
      const v = row[cohort + "_slogp"];
      if (typeof v === "number" && Math.abs(v) > strength) { best = cohort; strength = Math.abs(v); }
    }
    return best;
  }

  const HEADINGS = { feature: "Feature", partner: "Gene", partner_omics: "Omics", test: "Test",
                     "x vs y": "Groups (effect x - y)", meta: "Meta" };
  const SHOWN = { p: "signed p", stat: "effect (rho for pairs)", slogp: "signed -log10 p", q: "BH q", n: "samples" };

  // ------------------------------------------------------------------ the knowledge base's table

  // A table of the layout of linkscan.jobs.tables: label columns, Meta, then a column per
  // cohort. `rows` are the records behind it (hover details, the row a click selects).
  function kbTable(table, rows, options) {
    const cohorts = new Set(table.cohorts || []);
    const sortable = (name) => options.onSort && (name === "meta" || cohorts.has(name));
    const headings = { ...HEADINGS, partner: options.partnerHeading || HEADINGS.partner };
    const head = el("tr", {}, ...table.columns.map((name) => {
      const label = headings[name] || name;
      if (!sortable(name)) return el("th", { scope: "col" }, label);
      const current = options.sort && options.sort.toLowerCase() === name.toLowerCase();
      return el("th", { scope: "col", class: "sortable" + (current ? " sorted" : ""),
                        "aria-sort": current ? "descending" : "none", "data-sort": name },
                el("button", { type: "button", title: "sort by " + label + ", strongest first",
                               onclick: () => options.onSort(name) }, label, current ? " \u25BC" : ""));
    }));
    const body = el("tbody");
    table.data.forEach((cells, i) => {
      const row = rows[i];
      const tr = el("tr", { tabindex: "0", "data-partner": row ? row.partner : null,
                            "data-feature": row ? row.feature : null });
      cells.forEach((value, j) => {
        const name = table.columns[j];
        const numeric = typeof value === "number";
        const prefix = name === "meta" || cohorts.has(name) ? name : null;
        const cls = numeric ? "num" + (value > 0 ? " pos" : value < 0 ? " neg" : "") : null;
        tr.append(el("td", { class: cls, title: prefix ? cellTitle(row, prefix) : null },
                     formatCell(value, table.show, row && prefix ? row[prefix + "_slogp"] : null)));
      });
      if (options.onRow) {
        const select = () => {
          body.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
          tr.classList.add("selected");
          options.onRow(row);
        };
        tr.addEventListener("click", select);
        tr.addEventListener("keydown", (event) => { if (event.key === "Enter") select(); });
      }
      body.append(tr);
    });
    if (!table.data.length) body.append(el("tr", {}, el("td", { colspan: table.columns.length || 1 }, "no rows")));
    return el("table", { class: "kb", "data-kind": options.kind }, el("thead", {}, head), body);
  }

  // ------------------------------------------------------------------ plots of per-sample values

  // A panel that plots the values behind one association: box plots by group, a scatter
  // plot of a cohort (a cohort menu), or survival time against the value.
  function valuesPanel(id, kind, hint) {
    const title = el("h3", { class: "panel-title" }, hint);
    const menu = el("select", { class: "cohort-menu", "aria-label": "Cohort", hidden: "" });
    const status = el("p", { class: "muted status" });
    const plot = el("div", { class: "plot", id });
    const panel = el("div", { class: "panel values-panel" }, el("div", { class: "panel-head" }, title, menu),
                     plot, status);
    let answer = null, shownRow = null;

    function draw(cohort) {
      const entry = answer.cohorts.find((c) => c.cohort === cohort) || answer.cohorts[0];
      const rho = shownRow && shownRow[entry.cohort + "_stat"];
      const p = shownRow && pOf(shownRow[entry.cohort + "_slogp"]);
      const note = typeof rho === "number" ? `  (effect ${rho.toPrecision(3)}, p ${p}, n ${entry.n})` : "";
      const layout = { title: { text: entry.cohort + note, font: { size: 13 } }, margin: { t: 40, r: 10, b: 50, l: 60 },
                       xaxis: { title: { text: answer.x_label }, zeroline: false },
                       yaxis: { title: { text: answer.y_label }, zeroline: false }, hovermode: "closest",
                       legend: { orientation: "h" } };
      let traces;
      if (answer.plot === "survival") {
        traces = [1, 0].map((event) => {
          const at = entry.event.map((e, i) => (e === event ? i : -1)).filter((i) => i >= 0);
          return { type: "scatter", mode: "markers", name: event ? "event" : "censored",
                   x: at.map((i) => entry.x[i]), y: at.map((i) => entry.y[i]), text: at.map((i) => entry.samples[i]),
                   marker: { symbol: event ? "x" : "circle-open", size: 7, color: event ? "#d62728" : "#1f77b4" } };
        });
      } else {
        traces = [{ type: "scatter", mode: "markers", name: entry.cohort, x: entry.x, y: entry.y, text: entry.samples,
                    hovertemplate: "%{text}<br>x %{x}<br>y %{y}<extra></extra>",
                    marker: { size: 7, opacity: 0.75, color: "#1f77b4" } }];
      }
      return Plotly.react(plot, traces, layout, PLOT_CONFIG).then(() => { panel.dataset.cohort = entry.cohort; });
    }

    function drawGroups() {
      const traces = answer.labels.map((label, k) => {
        const x = [], y = [], text = [];
        for (const entry of answer.cohorts) {
          const group = entry.groups.find((g) => g.label === label);
          group.values.forEach((v, i) => { x.push(entry.cohort); y.push(v); text.push(group.samples[i]); });
        }
        return { type: "box", name: label, x, y, text, boxpoints: "outliers", hoverinfo: "y+text+name",
                 marker: { color: COLORS[(k * 3) % COLORS.length], size: 4 }, line: { width: 1 } };
      });
      const layout = { boxmode: "group", margin: { t: 30, r: 10, b: 40, l: 60 }, legend: { orientation: "h" },
                       yaxis: { title: { text: answer.y_label }, zeroline: false }, hovermode: "closest" };
      return Plotly.react(plot, traces, layout, PLOT_CONFIG);
    }

    menu.addEventListener("change", () => draw(menu.value));

    // label: the panel's title, or a function of the values' answer that makes it
    async function show(row, label, cohort) {
      shownRow = row;
      title.textContent = typeof label === "function" ? "" : label;
      status.textContent = "loading values\u2026";
      panel.dataset.loaded = "";
      try {
        answer = await source.values(kind, row);
      } catch (error) {
        status.textContent = error.message;
        Plotly.purge(plot);
        panel.dataset.loaded = "error";
        return;
      }
      if (typeof label === "function") title.textContent = label(answer);
      if (!answer.cohorts.length) {
        status.textContent = "no cohort of the cohort store has values of this association";
        panel.dataset.loaded = "empty";
        return;
      }
      status.textContent = answer.plot === "groups"
        ? "Boxes: quartiles and whiskers; points: outliers. Hover for samples; drag to zoom, double-click to reset."
        : "One point per sample. Hover for sample ids; drag to zoom, double-click to reset.";
      if (answer.plot === "groups") {
        menu.hidden = true;
        await drawGroups();
      } else {
        menu.replaceChildren(...answer.cohorts.map((c) => el("option", { value: c.cohort }, `${c.cohort} (n ${c.n})`)));
        menu.hidden = false;
        const wanted = answer.cohorts.some((c) => c.cohort === cohort) ? cohort
          : strongestCohort(row, answer.cohorts.map((c) => c.cohort));
        menu.value = wanted;
        await draw(wanted);
      }
      panel.dataset.loaded = valueKey(kind, row);
    }

    return { panel, show };
  }

  // ------------------------------------------------------------------ sections

  function sectionShell(section, lead) {
    const node = el("section", { id: section.id, "data-kind": section.kind },
                    el("h2", {}, section.title), el("p", { class: "lead muted" }, lead));
    document.getElementById("sections").append(node);
    document.getElementById("sections-nav").append(el("a", { href: "#" + section.id }, section.title));
    return node;
  }

  // a table in a box of its own height at most, scrolled (a phenotype's page lists every feature)
  const holder = (table) => el("div", { class: "table-holder" }, table);

  function rowLabel(row) {
    const side = (id, omics) => id + (omics ? ` (${omics})` : "");
    return `${side(row.feature, row.omics)} vs ${side(row.partner, row.partner_omics)}`;
  }

  async function tumorNormal(section) {
    const node = sectionShell(section, "Tumor against normal samples (Wilcoxon rank-sum); cells: signed p " +
      "(positive: higher in tumors), Meta: the pan-cancer meta p. Click a row to plot it.");
    const values = valuesPanel("tumor-normal-box", section.kind, "");
    const show = (row) => values.show(row, `${row.feature} (${row.omics || ""}): tumor and normal`);
    node.append(holder(kbTable(section.table, section.rows, { kind: section.kind, partnerHeading: section.partner_heading,
                                                              onRow: show })), values.panel);
    if (section.rows.length) await show(section.rows[0]);
  }

  async function phenotypes(section) {
    const node = sectionShell(section, "Clinical phenotypes, survival and mutations (Spearman, " +
      "Wilcoxon, Jonckheere-Terpstra, ANOVA, Cox); cells: signed p. Click a row or a point to plot it.");
    const values = valuesPanel("phenotype-values", section.kind, "");
    // the answer names the feature and the phenotype whichever side of the row each is
    const show = (row, cohort) => values.show(row, (answer) => `${answer.feature} by ${answer.partner}`, cohort);
    const manhattan = el("div", { class: "plot", id: "phenotype-manhattan" });
    node.append(holder(kbTable(section.table, section.rows, { kind: section.kind,
                                                              partnerHeading: section.partner_heading,
                                                              onRow: (row) => show(row) })),
                el("div", { class: "panel" }, el("h3", { class: "panel-title" }, "Every phenotype in every cohort"),
                   manhattan), values.panel);
    // Manhattan-style: cohorts along x, each phenotype at its own offset within its cohort
    const rows = section.rows;
    const traces = section.cohorts.map((cohort, c) => {
      const points = rows.map((row, k) => ({ row, k, v: row[cohort + "_slogp"] }))
        .filter((point) => typeof point.v === "number");
      return {
        type: "scatter", mode: "markers", name: cohort,
        x: points.map((point) => c + 0.8 * ((point.k + 0.5) / Math.max(rows.length, 1) - 0.5)),
        y: points.map((point) => Math.abs(point.v)),
        customdata: points.map((point) => point.k),
        text: points.map((point) => `${point.row.partner} (${point.row.partner_omics || ""}, ${point.row.test})` +
                                    `<br>${cohort}: p ${pOf(point.v)}, effect ${(point.row[cohort + "_stat"] ?? NaN).toPrecision(3)}`),
        hovertemplate: "%{text}<extra></extra>",
        marker: { size: 8, color: COLORS[c % COLORS.length],
                  symbol: points.map((point) => (point.v >= 0 ? "triangle-up" : "triangle-down")) },
      };
    });
    const layout = { margin: { t: 20, r: 10, b: 40, l: 60 }, showlegend: false, hovermode: "closest",
                     xaxis: { tickmode: "array", tickvals: section.cohorts.map((_, c) => c), ticktext: section.cohorts,
                              range: [-0.6, section.cohorts.length - 0.4], zeroline: false },
                     yaxis: { title: { text: "-log10 p  (\u25B2 higher, \u25BC lower)" }, rangemode: "tozero" } };
    await Plotly.newPlot(manhattan, traces, layout, PLOT_CONFIG);
    manhattan.on("plotly_click", (event) => {
      const point = event.points[0];
      show(rows[point.customdata], section.cohorts[point.curveNumber]);
    });
    if (rows.length) await show(rows[0]);
  }

  async function cis(section) {
    const node = sectionShell(section, "The gene's features in the scan's two omics (Spearman); cells: rho, " +
      "Meta: signed -log10 of the meta p. Click a row to plot it.");
    const values = valuesPanel("cis-scatter", section.kind, "");
    const show = (row) => values.show(row, rowLabel(row));
    node.append(holder(kbTable(section.table, section.rows, { kind: section.kind, partnerHeading: section.partner_heading,
                                                              onRow: show })), values.panel);
    if (section.rows.length) await show(section.rows[0]);
  }

  async function trans(section) {
    const node = sectionShell(section, (section.complete ? "" : `The strongest ${section.rows.length} of ` +
      `${section.total} partners by the meta p (sorting and paging within them; linkscan serve has all). `) +
      "Spearman across samples; cells: signed p. Click a column to sort by it, a row to plot the pair.");
    const state = { sort: section.sort, offset: 0, limit: section.page_size };
    const values = valuesPanel("trans-scatter", section.kind, "");
    const show = (row) => values.show(row, rowLabel(row), state.sort === "meta" ? null : state.sort);
    const rowsHolder = holder(null);
    const info = el("span", { class: "page-info muted" });
    const previous = el("button", { type: "button", class: "page-previous", onclick: () => load(state.offset - state.limit) }, "\u2190 Previous");
    const next = el("button", { type: "button", class: "page-next", onclick: () => load(state.offset + state.limit) }, "Next \u2192");
    const heatmap = el("div", { class: "plot", id: "trans-heatmap" });
    node.append(el("div", { class: "pager" }, previous, info, next), rowsHolder,
                el("div", { class: "panel" }, el("h3", { class: "panel-title" },
                   `The ${section.heatmap.length} strongest partners by the meta p`), heatmap),
                values.panel);

    let total = section.total;
    function draw(answer) {
      total = answer.total;
      const table = kbTable(answer.table, answer.rows, { kind: section.kind, partnerHeading: section.partner_heading,
                                                         onRow: show, sort: state.sort,
        onSort: (name) => { state.sort = name; load(0); } });
      rowsHolder.replaceChildren(table);
      info.textContent = total ? `rows ${state.offset + 1}\u2013${state.offset + answer.rows.length} of ${total}, ` +
        `sorted by ${state.sort}` : "no rows";
      previous.disabled = state.offset <= 0;
      next.disabled = state.offset + state.limit >= total;
      node.dataset.offset = state.offset;
      node.dataset.sort = state.sort;
    }
    async function load(offset) {
      state.offset = Math.max(0, offset);
      try {
        draw(await source.associations(section.kind, { sort: state.sort, offset: state.offset, limit: state.limit, show: "p" }));
      } catch (error) {
        info.textContent = error.message;
      }
    }

    if (REPORT) await load(0);
    else draw({ total: section.total, rows: section.rows, table: section.table });

    const top = section.heatmap;
    const z = top.map((row) => section.cohorts.map((c) => (typeof row[c + "_slogp"] === "number" ? row[c + "_slogp"] : null)));
    // symmetric around 0, so that white is "no association"
    const cap = Math.max(3, ...z.flat().filter((v) => v !== null).map(Math.abs));
    const text = top.map((row) => section.cohorts.map((c) => `${row.partner} in ${c}: ` + (cellTitle(row, c) || "no result")));
    await Plotly.newPlot(heatmap, [{
      type: "heatmap", x: section.cohorts, y: top.map((row) => row.partner), z, text, hoverinfo: "text",
      colorscale: DIVERGING, zmin: -cap, zmax: cap, hoverongaps: false,
      colorbar: { title: { text: "signed<br>-log10 p" }, thickness: 12 },
    }], { margin: { t: 10, r: 10, b: 40, l: 90 }, yaxis: { autorange: "reversed", dtick: 1 },
          height: Math.max(320, 16 * top.length + 80) }, PLOT_CONFIG);
    heatmap.on("plotly_click", (event) => show(top[event.points[0].pointIndex[0]]));
    if (section.rows.length) await show(section.rows[0]);
  }

  async function enrichment(section) {
    const node = sectionShell(section, "Preranked gene set enrichment of the partners (signed -log10 p ranking).");
    if (section.note) {  // gene sets were given, but the gene has no enrichment: why
      node.append(el("p", { class: "note", id: "enrichment-note" }, section.note));
      return;
    }
    const table = { columns: section.columns, data: section.data, cohorts: [], show: "stat" };
    const bars = el("div", { class: "plot", id: "enrichment-nes" });
    node.append(holder(kbTable(table, [], { kind: section.kind })), el("div", { class: "panel" }, bars));
    const nes = section.columns.indexOf("nes"), name = section.columns.indexOf("set");
    const shown = section.data.slice(0, 25);
    await Plotly.newPlot(bars, [{ type: "bar", orientation: "h", x: shown.map((r) => r[nes]), y: shown.map((r) => r[name]),
                                  marker: { color: shown.map((r) => (r[nes] >= 0 ? "#d62728" : "#1f77b4")) } }],
                         { margin: { t: 10, r: 10, b: 40, l: 200 }, yaxis: { autorange: "reversed" },
                           xaxis: { title: { text: "NES" } } }, PLOT_CONFIG);
  }

  const BUILDERS = { tumor_normal: tumorNormal, phenotype: phenotypes, cis, trans, enrichment };

  // ------------------------------------------------------------------ header and search

  function header() {
    document.getElementById("gene-name").textContent = DATA.gene || "linkscan";
    const features = (DATA.features || []).map((f) => `${f.feature} (${f.omics})`).join(", ");
    document.getElementById("gene-features").textContent = features;
    const form = document.getElementById("search");
    if (REPORT) {
      form.hidden = true;
      document.getElementById("footer").textContent =
        `Offline report of ${DATA.gene}, made by linkscan on ${DATA.generated} from ${DATA.results}.`;
      return;
    }
    document.getElementById("footer").textContent = `linkscan serve: results ${DATA.results || ""}`;
    const input = document.getElementById("search-input");
    const list = document.getElementById("search-genes");
    let asked = "";
    input.addEventListener("input", async () => {
      const prefix = input.value.trim();
      if (!prefix || prefix === asked) return;
      asked = prefix;
      try {
        const answer = await serviceSource.genes(prefix);
        if (asked === prefix) list.replaceChildren(...answer.genes.map((g) => el("option", { value: g })));
      } catch (error) { /* the box still submits what was typed */ }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const gene = input.value.trim();
      if (gene) window.location.href = "/gene/" + encodeURIComponent(gene);
    });
  }

  async function main() {
    header();
    const main = document.getElementById("sections");
    if (DATA.error) main.append(el("p", { class: "error" }, DATA.error));
    if (!DATA.sections) {
      if (!DATA.error) main.append(el("p", { class: "lead" }, "Type a gene symbol to see its associations."));
      document.body.dataset.ready = "1";
      return;
    }
    const failures = [];
    for (const section of DATA.sections) {
      try {
        await BUILDERS[section.kind](section);
      } catch (error) {
        failures.push(section.kind);
        console.error(section.kind, error);
      }
    }
    document.body.dataset.ready = failures.length ? "failed: " + failures.join(",") : "1";
  }

  main();
});
