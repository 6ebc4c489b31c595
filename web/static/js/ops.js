// The ops console (/ops): knowledge base, retrieval playground, and the figures that say whether the bot helps.

import { h, replaceChildren } from "./dom.js";
import { milliseconds, percent } from "./format.js";
import { knowledgeBase } from "./ops-docs.js";
import { legend, lineChart, statsTable, thumbsRate, volumeChart } from "./ops-chart.js";
import { playground } from "./ops-search.js";
import { startSession } from "./staff.js";

const el = {
  days: document.getElementById("stats-days"),
  kpis: document.getElementById("kpis"),
  volume: document.getElementById("chart-volume"),
  legend: document.getElementById("chart-legend"),
  rating: document.getElementById("chart-rating"),
  latency: document.getElementById("chart-latency"),
  table: document.getElementById("stats-table"),
};

function kpi(label, value, detail) {
  return h("div", { class: "kpi" }, h("span", { class: "kpi-label" }, label), h("span", { class: "kpi-value" }, value), detail ? h("span", { class: "kpi-detail" }, detail) : null);
}

async function loadStats(session) {
  let stats;
  try {
    stats = await session.api(`/v1/ops/stats?days=${encodeURIComponent(el.days.value)}`);
  } catch (error) {
    replaceChildren(el.kpis, h("p", { class: "form-error" }, error.message));
    return;
  }
  const { days, totals } = stats;
  const rated = totals.thumbs_up + totals.thumbs_down;
  replaceChildren(
    el.kpis,
    kpi("Conversations", String(totals.conversations)),
    kpi("Without a person", percent(totals.deflection_rate), `${totals.answered_without_human} by the bot alone`),
    kpi("Escalated", String(totals.escalated), topReason(totals.escalated_by_reason)),
    kpi("Thumbs up", percent(totals.thumbs_up_rate), rated ? `${totals.thumbs_up} up · ${totals.thumbs_down} down` : "no ratings yet"),
    kpi("Reopened", String(totals.reopened), "after resolution"),
    kpi("Median answer", milliseconds(totals.median_answer_ms)),
  );
  replaceChildren(el.volume, volumeChart(days));
  replaceChildren(el.legend, legend(days));
  replaceChildren(el.rating, lineChart(days, thumbsRate, { format: percent, fixedMax: 1, label: "Thumbs-up rate" }));
  replaceChildren(el.latency, lineChart(days, (d) => d.median_answer_ms, { format: milliseconds, label: "Median answer time" }));
  replaceChildren(el.table, statsTable(days));
}

function topReason(byReason) {
  const entries = Object.entries(byReason || {}).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return "none";
  const labels = { no_evidence: "no answer found", customer_asked_for_human: "asked for a person", sensitive: "sensitive" };
  const [reason, count] = entries[0];
  return `${count} ${labels[reason] || reason.replace(/_/g, " ")}`;
}

async function start() {
  let session;
  try {
    session = await startSession("ops");
  } catch {
    return; // not signed in (redirected to /login) or the wrong role (the page says so)
  }
  const kb = knowledgeBase(session);
  playground(session);
  el.days.addEventListener("change", () => loadStats(session));
  await Promise.all([kb.load(), loadStats(session)]);
  window.setInterval(() => loadStats(session), 60000);
  document.body.dataset.ready = "true";
}

start();
