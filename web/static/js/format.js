// Words and numbers as people read them: escalation reasons, statuses, times, file sizes.

const REASONS = {
  no_evidence: "No answer in the knowledge base",
  customer_asked_for_human: "Asked for a person",
  out_of_scope: "Out of scope",
  repeated_failure: "Bot failed repeatedly",
  sensitive: "Sensitive subject",
  agent_took_over: "Taken over by an agent",
};

const STATUSES = {
  bot: "With the assistant",
  escalated: "Waiting for an agent",
  claimed: "With an agent",
  resolved: "Resolved",
};

export const REASON_KEYS = Object.keys(REASONS);

export function reasonLabel(reason) {
  if (!reason) return "";
  return REASONS[reason] || reason.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export function statusLabel(status) {
  return STATUSES[status] || status || "";
}

export function timeAgo(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return days === 1 ? "yesterday" : `${days} days ago`;
}

export function clockTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function fullTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString();
}

export function fileSize(bytes) {
  if (bytes === null || bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

export function milliseconds(value) {
  if (value === null || value === undefined) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** "Manual.pdf, p. 4" */
export function citationLabel(citation) {
  const name = citation.source || citation.title || "Source";
  const page = citation.page !== null && citation.page !== undefined ? `, p. ${citation.page}` : "";
  return `${name}${page}`;
}

export function shortId(id) {
  return id ? `#${id.slice(-6)}` : "";
}
