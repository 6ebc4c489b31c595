// The ops figures drawn as inline SVG (no chart library): conversations per day stacked by outcome, and two
// small line charts (thumbs-up rate, median answer time). Each chart has a text summary for screen readers,
// and the page offers the same figures as a table.

import { h, s } from "./dom.js";
import { milliseconds, percent, reasonLabel } from "./format.js";

const ANSWERED = "#2f9163";
const OTHER = "#c8d0da";
const REASON_COLOURS = {
  no_evidence: "#d08a2e",
  customer_asked_for_human: "#7b5fb5",
  sensitive: "#c0492b",
  repeated_failure: "#a8506b",
  out_of_scope: "#6f7f94",
  agent_took_over: "#3f88ae",
};
const FALLBACK_COLOURS = ["#b0884a", "#5f8f8a", "#8a6d9e"];

export function reasonColour(reason, index = 0) {
  return REASON_COLOURS[reason] || FALLBACK_COLOURS[index % FALLBACK_COLOURS.length];
}

function dayLabel(iso) {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString([], { month: "short", day: "numeric", timeZone: "UTC" });
}

function niceMax(value) {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const factor = [1, 2, 4, 6, 8, 10].find((f) => f * magnitude >= value);
  return factor * magnitude;
}

/** The reasons present in these days, most frequent first. */
export function reasonsIn(days) {
  const totals = {};
  for (const day of days) {
    for (const [reason, count] of Object.entries(day.escalated_by_reason || {})) totals[reason] = (totals[reason] || 0) + count;
  }
  return Object.keys(totals).sort((a, b) => totals[b] - totals[a]);
}

/** Stacked bars: answered without a person, escalated (one colour per reason), the rest. */
export function volumeChart(days) {
  const width = 460;
  const height = 190;
  const left = 30;
  const right = 6;
  const top = 10;
  const bottom = 24;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const reasons = reasonsIn(days);
  const max = niceMax(Math.max(1, ...days.map((d) => d.conversations)));
  const y = (value) => top + plotHeight - (value / max) * plotHeight;
  const step = plotWidth / Math.max(1, days.length);
  const barWidth = Math.max(2, Math.min(22, step * 0.64));
  const total = days.reduce((sum, d) => sum + d.conversations, 0);
  const svg = s("svg", {
    class: "chart-svg",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": `Conversations per day over ${days.length} days: ${total} in all.`,
  });
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    svg.append(
      s("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: fraction === 0 ? "axis" : "grid" }),
      s("text", { x: left - 6, y: y(value) + 4, class: "tick", "text-anchor": "end" }, String(Math.round(value))),
    );
  }
  days.forEach((day, index) => {
    const x = left + index * step + (step - barWidth) / 2;
    const group = s("g", { class: "bar" });
    const answered = day.answered_without_human || 0;
    const escalated = reasons.map((reason) => [reason, (day.escalated_by_reason || {})[reason] || 0]);
    const escalatedTotal = escalated.reduce((sum, [, n]) => sum + n, 0);
    const other = Math.max(0, day.conversations - answered - escalatedTotal);
    let base = 0;
    const segment = (count, colour) => {
      if (!count) return;
      group.append(s("rect", { x, y: y(base + count), width: barWidth, height: Math.max(1, y(base) - y(base + count)), fill: colour, rx: 1.5 }));
      base += count;
    };
    segment(answered, ANSWERED);
    escalated.forEach(([reason, count], i) => segment(count, reasonColour(reason, i)));
    segment(other, OTHER);
    const parts = [`${dayLabel(day.date)}: ${day.conversations} conversations`, `${answered} answered without a person`];
    for (const [reason, count] of escalated) if (count) parts.push(`${count} escalated: ${reasonLabel(reason).toLowerCase()}`);
    if (day.reopened) parts.push(`${day.reopened} reopened`);
    group.prepend(s("title", {}, parts.join(", ")));
    // A transparent full-height target so the tooltip shows on empty days too.
    group.append(s("rect", { x: left + index * step, y: top, width: step, height: plotHeight, fill: "transparent" }));
    svg.append(group);
  });
  const labelAt = days.length <= 8 ? days.map((_, i) => i) : [0, Math.floor((days.length - 1) / 2), days.length - 1];
  for (const index of labelAt) {
    const anchor = index === 0 ? "start" : index === days.length - 1 ? "end" : "middle";
    const x = anchor === "start" ? left : anchor === "end" ? width - right : left + index * step + step / 2;
    svg.append(s("text", { x, y: height - 6, class: "tick", "text-anchor": anchor }, dayLabel(days[index].date)));
  }
  return svg;
}

export function legend(days) {
  const item = (colour, label) =>
    h("li", {}, s("svg", { class: "swatch", viewBox: "0 0 10 10", "aria-hidden": "true" }, s("rect", { width: 10, height: 10, rx: 2, fill: colour })), label);
  return [
    item(ANSWERED, "Answered without a person"),
    ...reasonsIn(days).map((reason, i) => item(reasonColour(reason, i), `Escalated: ${reasonLabel(reason).toLowerCase()}`)),
    item(OTHER, "Other"),
  ];
}

/** A small line chart of one daily figure; days without a value leave a gap. */
export function lineChart(days, valueOf, { format, fixedMax, label }) {
  const width = 220;
  const height = 96;
  const left = 40;
  const right = 6;
  const top = 8;
  const bottom = 18;
  const values = days.map(valueOf);
  const known = values.filter((v) => v !== null && v !== undefined);
  const svg = s("svg", { class: "chart-svg chart-line", viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (!known.length) {
    svg.setAttribute("aria-label", `${label}: no data in this period.`);
    svg.append(s("text", { x: width / 2, y: height / 2 + 4, class: "tick", "text-anchor": "middle" }, "No data yet"));
    return svg;
  }
  const max = fixedMax || Math.max(...known) * 1.15 || 1;
  const step = (width - left - right) / Math.max(1, days.length - 1);
  const x = (i) => left + (days.length === 1 ? (width - left - right) / 2 : i * step);
  const y = (v) => top + (height - top - bottom) - (v / max) * (height - top - bottom);
  for (const fraction of [0, 1]) {
    svg.append(
      s("line", { x1: left, x2: width - right, y1: y(max * fraction), y2: y(max * fraction), class: fraction === 0 ? "axis" : "grid" }),
      s("text", { x: left - 5, y: y(max * fraction) + 4, class: "tick", "text-anchor": "end" }, format(max * fraction)),
    );
  }
  let path = "";
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const previous = i > 0 ? values[i - 1] : null;
    path += `${previous === null || previous === undefined ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
  });
  svg.append(s("path", { d: path.trim(), class: "line" }));
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    svg.append(s("circle", { cx: x(i), cy: y(v), r: 2.6, class: "point" }, s("title", {}, `${dayLabel(days[i].date)}: ${format(v)}`)));
  });
  const last = known[known.length - 1];
  svg.setAttribute("aria-label", `${label}: latest ${format(last)}, range ${format(Math.min(...known))} to ${format(Math.max(...known))}.`);
  return svg;
}

export function thumbsRate(day) {
  const rated = (day.thumbs_up || 0) + (day.thumbs_down || 0);
  return rated ? day.thumbs_up / rated : null;
}

/** The same figures as a table (for screen readers and for reading exact numbers). */
export function statsTable(days) {
  const rows = days
    .slice()
    .reverse()
    .map((d) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, dayLabel(d.date)),
        h("td", { class: "num" }, String(d.conversations)),
        h("td", { class: "num" }, String(d.answered_without_human)),
        h("td", {}, Object.entries(d.escalated_by_reason || {}).map(([r, n]) => `${reasonLabel(r)}: ${n}`).join(", ") || "0"),
        h("td", { class: "num" }, `${d.thumbs_up} / ${d.thumbs_down}`),
        h("td", { class: "num" }, String(d.reopened)),
        h("td", { class: "num" }, milliseconds(d.median_answer_ms)),
      ),
    );
  return h(
    "table",
    { class: "stats-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Day", "Conversations", "Without a person", "Escalated", "Up / down", "Reopened", "Median answer"].map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h("tbody", {}, rows),
  );
}

export { percent };
