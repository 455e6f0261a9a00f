// Drawing one page of the file list: the table with its sortable headers, the pager, or an
// empty state. Pure rendering from the API's answer; file-list.js owns state and events.

import { h } from "./dom.js";
import { count, humanSize, localTime, shortHash } from "./format.js";

const COLUMNS = [
  ["name", "Name"],
  ["size", "Size"],
  ["uploaded_at", "Uploaded"],
];

/** The order a column sorts in when first chosen: names A to Z, the rest biggest/newest first. */
export function defaultOrder(sort) {
  return sort === "name" ? "asc" : "desc";
}

/** The page's own URL for a list state, as the server-rendered links spell it. */
export function pageUrl(state) {
  const params = new URLSearchParams();
  if (state.offset > 0) params.set("offset", String(state.offset));
  params.set("sort", state.sort);
  params.set("order", state.order);
  if (state.q) params.set("q", state.q);
  if (state.limitInAddress) params.set("limit", String(state.limit));
  return `/?${params}`;
}

/**
 * Replace the content of ``container`` with one page of files.
 *
 * @param {HTMLElement} container
 * @param {{files: object[], total: number}} page
 * @param {object} state sort, order, q, limit, offset
 * @param {Set<string>} highlight ids of rows to mark as new
 */
export function renderPage(container, page, state, highlight) {
  if (page.files.length === 0) {
    container.replaceChildren(emptyState(state));
    return;
  }
  const table = h(
    "table",
    {},
    h("thead", {}, h("tr", {}, COLUMNS.map(([key, label]) => headerCell(key, label, state)),
      h("th", { scope: "col", class: "col-sha256" }, "SHA-256"),
      h("th", { scope: "col", class: "col-actions" }, "Actions"))),
    h("tbody", {}, page.files.map((file) => row(file, highlight.has(file.id)))),
  );
  container.replaceChildren(table, pager(page, state));
}

/** What to say when a request for the list failed, with a way to try again. */
export function renderError(container, message) {
  container.replaceChildren(
    h("p", { class: "list-error", role: "alert" }, `The file list could not be loaded: ${message} `,
      h("button", { type: "button", class: "small secondary", dataset: { action: "reload", focus: "reload" } }, "Try again")),
  );
}

function headerCell(key, label, state) {
  const active = state.sort === key;
  const order = active ? (state.order === "asc" ? "desc" : "asc") : defaultOrder(key);
  const link = h(
    "a",
    { href: pageUrl({ ...state, sort: key, order, offset: 0 }), dataset: { sort: key, order, focus: `sort-${key}` } },
    label,
  );
  const sorted = active ? (state.order === "asc" ? "ascending" : "descending") : null;
  return h("th", { scope: "col", class: `col-${key}`, "aria-sort": sorted }, link);
}

function row(file, isNew) {
  const name = file.name;
  return h(
    "tr",
    { class: isNew ? "new" : null, dataset: { id: file.id } },
    h("td", { class: "name" }, name),
    h("td", { class: "size", title: `${count(file.size)} bytes` }, humanSize(file.size)),
    h("td", { class: "time" },
      h("time", { datetime: file.uploaded_at, title: file.uploaded_at }, localTime(file.uploaded_at))),
    h("td", { class: "hash" },
      h("code", { title: file.sha256 }, shortHash(file.sha256)),
      button("copy-hash", "Copy", `Copy SHA-256 of ${name}`, file.id, "small secondary")),
    h("td", { class: "actions" },
      h("a", { class: "button small", href: file.download_url, download: true, "aria-label": `Download ${name}`, dataset: { focus: `download-${file.id}` } }, "Download"),
      button("copy-link", "Copy link", `Copy link to ${name}`, file.id, "small secondary"),
      button("delete", "Delete", `Delete ${name}`, file.id, "small danger")),
  );
}

function button(action, text, label, id, className) {
  return h(
    "button",
    { type: "button", class: className, "aria-label": label, dataset: { action, focus: `${action}-${id}` } },
    text,
  );
}

function pager(page, state) {
  const first = state.offset + 1;
  const last = state.offset + page.files.length;
  const range = h("span", { class: "range" }, `${count(first)}–${count(last)} of ${count(page.total)}`);
  const previous = state.offset > 0
    ? pageLink(state, Math.max(0, state.offset - state.limit), "Previous page", "previous")
    : null;
  const next = last < page.total ? pageLink(state, last, "Next page", "next") : null;
  return h("nav", { class: "pages", "aria-label": "Pages" }, previous, range, next);
}

function pageLink(state, offset, text, key) {
  return h("a", { href: pageUrl({ ...state, offset }), dataset: { offset, focus: key } }, text);
}

function emptyState(state) {
  if (state.offset > 0) {
    return h("p", { class: "empty" }, "This page is past the end of the list. ",
      pageLink(state, 0, "Go to the first page", "first"));
  }
  if (state.q) {
    return h("p", { class: "empty" }, `No file name contains “${state.q}”. `,
      h("button", { type: "button", class: "small secondary", dataset: { action: "clear-filter", focus: "clear-filter" } }, "Clear the filter"));
  }
  return h("p", { class: "empty" },
    "No files yet. Drop files above or choose them; they are encrypted as they arrive.");
}
