// The file list: which page is shown (sort, order, filter and offset, kept in the address so
// links, reloads and the Back button keep working), fetching it from the API one page at a
// time (a list of 10,000 files costs no more than one of 100), and the actions on its rows.

import { deleteFile, listFiles } from "./api.js";
import { copyText, showCopied } from "./clipboard.js";
import { confirmDelete } from "./confirm-dialog.js";
import { count, plural } from "./format.js";
import { defaultOrder, pageUrl, renderError, renderPage } from "./file-table.js";

const SORT_KEYS = ["uploaded_at", "name", "size"];
const MAX_LIMIT = 1000;
// Typing in the filter asks the server once the typist pauses, not on every key.
const FILTER_DELAY_MS = 250;
// Uploads finishing close together refresh the list once.
const REFRESH_DELAY_MS = 300;

/**
 * @param {object} parts
 * @param {HTMLElement} parts.section the files section of the page.
 * @param {HTMLDialogElement} parts.dialog the delete confirmation.
 * @param {(message: string) => void} parts.announce
 * @returns {{refreshSoon: (newId?: string) => void}}
 */
export function mountFileList({ section, dialog, announce }) {
  const results = section.querySelector("[data-results]");
  const countLabel = section.querySelector("[data-count]");
  const message = section.querySelector("[data-list-message]");
  const heading = section.querySelector("h2");
  const form = section.querySelector("[data-filter]");
  const { q: filterInput, sort: sortSelect, order: orderSelect } = form.elements;
  const defaultLimit = Number(section.dataset.limit) || 100;

  let state = readAddress();
  let shown = new Map(); // id -> FILE, for the rows on screen
  let controller = null;
  let filterTimer = 0;
  let refreshTimer = 0;
  const fresh = new Set();

  heading.tabIndex = -1;
  form.querySelector("[type=submit]").hidden = true;

  function readAddress() {
    const params = new URLSearchParams(location.search);
    const sort = SORT_KEYS.includes(params.get("sort")) ? params.get("sort") : "uploaded_at";
    const order = ["asc", "desc"].includes(params.get("order")) ? params.get("order") : defaultOrder(sort);
    const limit = Math.min(MAX_LIMIT, Number.parseInt(params.get("limit"), 10) || defaultLimit);
    const offset = Math.max(0, Number.parseInt(params.get("offset"), 10) || 0);
    // A page size chosen in the address (?limit=) stays in it; the server's default does not.
    return { sort, order, q: params.get("q") ?? "", limit, offset, limitInAddress: params.has("limit") };
  }

  function syncControls() {
    if (filterInput.value !== state.q) filterInput.value = state.q;
    sortSelect.value = state.sort;
    orderSelect.value = state.order;
  }

  function change(changes, how) {
    state = { ...state, ...changes };
    syncControls();
    return load(how);
  }

  /**
   * Fetch and draw the current page.
   *
   * @param {object} [how]
   * @param {"push"|"replace"} [how.address] how to record the new state in the history.
   * @param {string} [how.focus] the data-focus key of the element to focus afterwards.
   * @param {boolean} [how.tell] announce what is shown (after a user's own change).
   * @param {boolean} [how.quiet] keep the page as it is if the request fails.
   */
  async function load({ address, focus, tell = false, quiet = false } = {}) {
    controller?.abort();
    const current = (controller = new AbortController());
    if (address === "push") history.pushState(null, "", pageUrl(state));
    if (address === "replace") history.replaceState(null, "", pageUrl(state));
    const focused = results.contains(document.activeElement) ? document.activeElement.dataset.focus : undefined;
    results.setAttribute("aria-busy", "true");
    results.dataset.state = "loading";
    try {
      const page = await listFiles(state, current.signal);
      shown = new Map(page.files.map((file) => [file.id, file]));
      renderPage(results, page, state, fresh);
      fresh.clear();
      countLabel.textContent = `(${count(page.total)})`;
      results.dataset.state = "ready";
      if (tell) announce(describe(page));
    } catch (error) {
      if (error.name === "AbortError") return;
      results.dataset.state = "error";
      if (!quiet) renderError(results, error.message);
    } finally {
      if (controller === current) results.removeAttribute("aria-busy");
    }
    restoreFocus(focus ?? focused);
  }

  function describe(page) {
    if (page.total === 0) return state.q ? "No file name matches." : "No files.";
    const last = state.offset + page.files.length;
    return `Showing ${count(state.offset + 1)} to ${count(last)} of ${plural(page.total, "file", "files")}.`;
  }

  function restoreFocus(key) {
    if (key === undefined) return;
    const target = key && results.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    (target || heading).focus();
  }

  function showMessage(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  // --- the filter form: live filtering and sorting ------------------------------------------

  filterInput.addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      state = { ...state, q: filterInput.value, offset: 0 };
      load({ address: "replace", tell: true });
    }, FILTER_DELAY_MS);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(filterTimer);
    change({ q: filterInput.value, offset: 0 }, { address: "replace", tell: true });
  });
  sortSelect.addEventListener("change", () => {
    const sort = sortSelect.value;
    change({ sort, order: defaultOrder(sort), offset: 0 }, { address: "push", tell: true });
  });
  orderSelect.addEventListener("change", () => {
    change({ order: orderSelect.value, offset: 0 }, { address: "push", tell: true });
  });
  window.addEventListener("popstate", () => change(readAddress(), {}));

  // --- the table: sort headers, pager, row buttons --------------------------------------

  results.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-sort], a[data-offset]");
    if (link) {
      // Let a modified click open a tab, as with any link.
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      if (link.dataset.sort) {
        change({ sort: link.dataset.sort, order: link.dataset.order, offset: 0 },
          { address: "push", focus: link.dataset.focus, tell: true });
      } else {
        // A new page starts at the top: the heading takes focus and comes into view.
        change({ offset: Number(link.dataset.offset) }, { address: "push", focus: "", tell: true })
          .then(() => heading.scrollIntoView({ block: "start" }));
      }
      return;
    }
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const file = shown.get(button.closest("tr")?.dataset.id);
    switch (button.dataset.action) {
      case "reload":
        load({ focus: "" });
        break;
      case "clear-filter":
        change({ q: "", offset: 0 }, { address: "replace", tell: true }).then(() => filterInput.focus());
        break;
      case "copy-hash":
        copy(button, file.sha256, `SHA-256 of ${file.name} copied.`);
        break;
      case "copy-link":
        copy(button, new URL(file.download_url, location.origin).href, `Download link of ${file.name} copied.`);
        break;
      case "delete":
        remove(file, button.closest("tr"));
        break;
    }
  });

  async function copy(button, text, done) {
    if (await copyText(text)) {
      showCopied(button);
      announce(done);
    } else {
      showMessage("The browser did not allow copying. Select the text and copy it yourself.");
    }
  }

  async function remove(file, row) {
    const neighbour = row.nextElementSibling ?? row.previousElementSibling;
    if (!(await confirmDelete(dialog, file.name))) {
      // The row may have been redrawn while the dialog was open.
      if (!document.activeElement || document.activeElement === document.body) {
        restoreFocus(`delete-${file.id}`);
      }
      return;
    }
    try {
      await deleteFile(file.id);
    } catch (error) {
      showMessage(`${file.name} was not deleted: ${error.message}`);
      return;
    }
    showMessage("");
    announce(`Deleted ${file.name}.`);
    if (shown.size === 1 && state.offset > 0) {
      // The last row of a later page went: show the page before.
      state = { ...state, offset: Math.max(0, state.offset - state.limit) };
      history.replaceState(null, "", pageUrl(state));
    }
    await load({ focus: neighbour ? `delete-${neighbour.dataset.id}` : "" });
  }

  // Draw the first page ourselves (local times, copy buttons); the server's rendering stays
  // in place if this fails.
  syncControls();
  load({ quiet: true });

  return {
    /** Show the list again soon, marking ``newId`` as new (after an upload). */
    refreshSoon(newId) {
      if (newId) fresh.add(newId);
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => load({ quiet: true }), REFRESH_DELAY_MS);
    },
  };
}
