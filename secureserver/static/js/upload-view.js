// The upload list on the page: one row per queued file with its progress bar, speed, time
// left, and Cancel / Retry / Remove buttons. Rows are redrawn at most once per frame, however
// often the browser reports progress, so big uploads never keep the page busy.

import { h } from "./dom.js";
import { humanDuration, humanSize, humanSpeed, plural } from "./format.js";

/**
 * @param {object} parts
 * @param {import("./upload-queue.js").UploadQueue} parts.queue
 * @param {HTMLElement} parts.root the block shown once there is something to show.
 * @param {HTMLUListElement} parts.list
 * @param {HTMLElement} parts.summary
 * @param {HTMLButtonElement} parts.clearButton
 * @param {HTMLElement} parts.home where focus goes when the last row is removed.
 * @param {(message: string) => void} parts.announce
 */
export function mountUploadView({ queue, root, list, summary, clearButton, home, announce }) {
  const rows = new Map(); // item id -> <li>
  const dirty = new Set();
  let frame = 0;

  function schedule(item) {
    dirty.add(item);
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function flush() {
    frame = 0;
    for (const item of dirty) {
      if (queue.find(item.id)) render(item);
    }
    dirty.clear();
    renderSummary();
  }

  function render(item) {
    let row = rows.get(item.id);
    if (!row) {
      row = createRow(item);
      rows.set(item.id, row);
      list.append(row);
    }
    row.className = `upload-item ${item.state}`;
    const progress = row.querySelector("progress");
    progress.max = Math.max(item.total, 1);
    progress.value = item.state === "done" ? progress.max : item.loaded;
    row.querySelector(".upload-detail").textContent = describe(item);
    const active = item.state === "queued" || item.state === "uploading";
    showButtons(row, {
      cancel: active,
      retry: item.state === "cancelled" || (item.state === "failed" && item.error.retryable),
      remove: !active,
    });
  }

  function renderSummary() {
    const counts = { queued: 0, uploading: 0, done: 0, failed: 0, cancelled: 0 };
    for (const item of queue.items) counts[item.state] += 1;
    root.hidden = queue.items.length === 0;
    clearButton.hidden = counts.done === 0;
    const parts = [];
    if (counts.uploading) parts.push(`${plural(counts.uploading, "file", "files")} uploading`);
    if (counts.queued) parts.push(`${counts.queued} waiting`);
    if (counts.done) parts.push(`${counts.done} uploaded`);
    if (counts.failed) parts.push(`${counts.failed} failed`);
    if (counts.cancelled) parts.push(`${counts.cancelled} cancelled`);
    summary.textContent = parts.join(" · ");
  }

  queue.addEventListener("change", ({ detail: item }) => {
    schedule(item);
    if (item.state === item.announced) return;
    item.announced = item.state;
    const name = item.file.name;
    if (item.state === "done") announce(`Uploaded ${name}.`);
    else if (item.state === "failed") announce(`Upload of ${name} failed: ${item.error.message}`);
    else if (item.state === "cancelled") announce(`Upload of ${name} cancelled.`);
  });

  queue.addEventListener("removed", ({ detail: item }) => {
    rows.get(item.id)?.remove();
    rows.delete(item.id);
    renderSummary();
  });

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("li");
    const item = queue.find(Number(row.dataset.itemId));
    if (!item) return;
    const action = button.dataset.action;
    if (action === "cancel") queue.cancel(item);
    else if (action === "retry") queue.retry(item);
    else if (action === "remove") {
      // Keep keyboard users in the list rather than dropping focus to the page.
      const next = row.nextElementSibling ?? row.previousElementSibling;
      queue.remove(item);
      (next?.querySelector("button:not([hidden])") ?? home).focus();
    }
  });

  clearButton.addEventListener("click", () => {
    queue.clearFinished();
    if (clearButton.hidden || root.hidden) home.focus();
  });
}

function createRow(item) {
  const name = item.file.name;
  return h(
    "li",
    { class: "upload-item", dataset: { itemId: item.id } },
    h("span", { class: "upload-name", text: name }),
    h(
      "span",
      { class: "upload-buttons" },
      h("button", { type: "button", class: "small secondary", dataset: { action: "cancel" }, "aria-label": `Cancel upload of ${name}` }, "Cancel"),
      h("button", { type: "button", class: "small", dataset: { action: "retry" }, "aria-label": `Retry upload of ${name}` }, "Retry"),
      h("button", { type: "button", class: "small secondary", dataset: { action: "remove" }, "aria-label": `Remove ${name} from this list` }, "Remove"),
    ),
    h("progress", { max: 1, value: 0, "aria-label": `Upload of ${name}` }),
    h("p", { class: "upload-detail" }),
  );
}

function showButtons(row, visible) {
  const buttons = [...row.querySelectorAll("button[data-action]")];
  for (const button of buttons) {
    if (visible[button.dataset.action]) button.hidden = false;
  }
  for (const button of buttons) {
    if (visible[button.dataset.action]) continue;
    // Hand focus on before hiding the button that has it (Cancel turns into Retry).
    if (button === document.activeElement) buttons.find((b) => !b.hidden && b !== button)?.focus();
    button.hidden = true;
  }
}

function describe(item) {
  const size = humanSize(item.total);
  switch (item.state) {
    case "queued":
      return `Waiting · ${size}`;
    case "uploading": {
      if (item.loaded >= item.total && item.total > 0) return `Finishing · ${size}`;
      const percent = item.total ? Math.floor((item.loaded / item.total) * 100) : 0;
      const parts = [`${humanSize(item.loaded)} of ${size} (${percent} %)`];
      if (item.speed !== null) parts.push(humanSpeed(item.speed));
      if (item.secondsLeft !== null) parts.push(`${humanDuration(item.secondsLeft)} left`);
      return parts.join(" · ");
    }
    case "done":
      return `Uploaded · ${size}`;
    case "failed":
      return item.error.message;
    case "cancelled":
      return "Cancelled: nothing was kept.";
    default:
      return "";
  }
}
