// The page's entry point: finds its parts and wires the upload queue to the file list.
// Without JavaScript the page works as plain forms and links; everything here enhances it.

import { announcer } from "./dom.js";
import { mountDropzone } from "./dropzone.js";
import { mountFileList } from "./file-list.js";
import { UploadQueue } from "./upload-queue.js";
import { mountUploadView } from "./upload-view.js";

// Three uploads at once keep a link busy without starving the list's own requests.
const PARALLEL_UPLOADS = 3;

const form = document.querySelector(".upload-form");
const input = form.querySelector("input[type=file]");
const uploadMessage = document.querySelector("[data-upload-message]");
const announce = announcer(document.querySelector("[data-announcer]"));

const fileList = mountFileList({
  section: document.querySelector("[data-file-list]"),
  dialog: document.querySelector("[data-confirm-delete]"),
  announce,
});

const queue = new UploadQueue({
  concurrency: PARALLEL_UPLOADS,
  // Read when each file is queued; without the attribute the server alone decides.
  limit: () => Number(form.dataset.maxBytes) || Infinity,
});
queue.addEventListener("uploaded", ({ detail }) => fileList.refreshSoon(detail.file.id));

const uploads = document.querySelector("[data-uploads]");
mountUploadView({
  queue,
  root: uploads,
  list: uploads.querySelector("[data-upload-list]"),
  summary: uploads.querySelector("[data-uploads-summary]"),
  clearButton: uploads.querySelector("[data-clear-finished]"),
  home: input,
  announce,
});

mountDropzone({
  form,
  zone: form.querySelector("[data-dropzone]"),
  input,
  onFiles: (files) => {
    uploadMessage.hidden = true;
    queue.add(files);
  },
  onRejected: (text) => {
    uploadMessage.textContent = text;
    uploadMessage.hidden = false;
  },
});

// Leaving the page would cut the uploads short: let the browser ask first.
window.addEventListener("beforeunload", (event) => {
  if (queue.busy) event.preventDefault();
});
