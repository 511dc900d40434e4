// The empty state over the views: "No event files under LOGDIR yet — start writing with
// SummaryWriter", or a message about filters and missing data.

import { byId, el } from "./dom.js";

/** The logdir(s) the board watches, from /api/runs (`logdir` or `logdirs`). */
function logdirOf(body) {
  if (!body) return "the log directory";
  if (typeof body.logdir === "string" && body.logdir) return body.logdir;
  if (Array.isArray(body.logdirs) && body.logdirs.length) return body.logdirs.join(", ");
  return "the log directory";
}

/**
 * Show a message, or hide it with null. Passing the /api/runs body with `loading`
 * shows the no-event-files state for its logdir.
 */
export function showEmpty(message, { loading = false } = {}) {
  const box = byId("empty");
  if (message === null) {
    box.hidden = true;
    return;
  }
  let title = message.title;
  let body = message.body;
  if (!title) {
    if (loading) {
      title = "Loading event files…";
      body = `Reading ${logdirOf(message)}.`;
    } else {
      title = `No event files under ${logdirOf(message)} yet — start writing with SummaryWriter`;
      body = el(
        "span",
        {},
        "For example ",
        el("code", { text: "SummaryWriter(logdir).add_scalar(\"loss\", value, step)" }),
        ". Runs appear here as soon as their first event is written.",
      );
    }
  }
  byId("empty-title").textContent = title;
  byId("empty-body").replaceChildren(body);
  box.hidden = false;
}
