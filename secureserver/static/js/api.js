// The server's HTTP API as the page uses it: list, delete, and upload with progress.
//
// Every request that changes something carries the page's CSRF token in X-CSRFToken.
// Errors become ApiError with the server's own message ({"error": "..."}) made readable.

import { humanSize } from "./format.js";

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const JSON_ONLY = { Accept: "application/json" };

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when no answer arrived (network error).
   * @param {string} message a sentence for people.
   * @param {boolean} retryable whether trying again could succeed.
   */
  constructor(status, message, retryable = true) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.retryable = retryable;
  }
}

/** An upload stopped by the user, not a failure. */
export class UploadCancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "UploadCancelled";
  }
}

/** Turn a status and the server's error text into a sentence for people. */
export function errorMessage(status, serverMessage) {
  const said = serverMessage ? capitalize(serverMessage) : "";
  switch (status) {
    case 0:
      return "Network error: the connection to the server was lost. Check it and retry.";
    case 401:
      return "The session has ended: reload the page to log in again.";
    case 413:
      return said || "Too large for the server.";
    case 429:
      return said || "Too many requests: wait a moment, then retry.";
    case 507:
      return "The server's storage is full: nothing was kept. Free some space, then retry.";
    default:
      return said || `The server answered ${status}.`;
  }
}

/** Refuse a file the server would refuse anyway, before sending any of it. */
export function tooLargeError(limit) {
  return new ApiError(
    413,
    `The file is too large: the limit is ${humanSize(limit)} (${limit} bytes).`,
    false,
  );
}

/**
 * One page of the file list.
 *
 * @param {{sort: string, order: string, q: string, limit: number, offset: number}} query
 * @param {AbortSignal} [signal]
 * @returns {Promise<{files: object[], total: number}>}
 */
export async function listFiles(query, signal) {
  const params = new URLSearchParams({
    sort: query.sort,
    order: query.order,
    limit: String(query.limit),
    offset: String(query.offset),
  });
  if (query.q) params.set("q", query.q);
  const response = await request(`/api/files?${params}`, { headers: JSON_ONLY, signal });
  return response.json();
}

/** Delete one file; a file that is already gone counts as deleted. */
export async function deleteFile(id) {
  try {
    await request(`/api/files/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: { ...JSON_ONLY, "X-CSRFToken": csrfToken },
    });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
}

/**
 * Upload one file with PUT /upload/<name>, reporting progress.
 *
 * XMLHttpRequest sends the File straight from disk, so a file of several GiB never sits in
 * the page's memory, and only XHR reports upload progress.
 *
 * @param {File} file
 * @param {(loaded: number, total: number) => void} onProgress
 * @returns {{promise: Promise<object>, abort: () => void}} the promise gives the FILE object.
 */
export function uploadFile(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("PUT", `/upload/${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201 && Array.isArray(xhr.response?.files)) {
        resolve(xhr.response.files[0]);
      } else {
        reject(
          new ApiError(xhr.status, errorMessage(xhr.status, xhr.response?.error), xhr.status !== 413),
        );
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, errorMessage(0))));
    xhr.addEventListener("abort", () => reject(new UploadCancelled()));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

async function request(url, options) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...options });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, errorMessage(0));
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(response.status, errorMessage(response.status, body?.error));
  }
  return response;
}

function capitalize(text) {
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
