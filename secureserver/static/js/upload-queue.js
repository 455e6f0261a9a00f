// The upload queue: which files wait, which are on the wire (a bounded number at once),
// how fast they go, and what became of them. It knows nothing of the DOM; the view
// listens to its events:
//   "change"   detail: the item whose state or progress changed
//   "uploaded" detail: { item, file } with the server's FILE object
//   "removed"  detail: the item taken off the list

import { ApiError, UploadCancelled, tooLargeError, uploadFile } from "./api.js";

// Speed is measured over the last few seconds, so it follows the link without jumping.
const SPEED_WINDOW_MS = 5000;
const MIN_SPEED_SPAN_MS = 500;

let nextId = 1;

export class UploadQueue extends EventTarget {
  /**
   * @param {object} options
   * @param {number} [options.concurrency] how many uploads run at once.
   * @param {() => number} [options.limit] the largest file the server takes, in bytes.
   * @param {typeof uploadFile} [options.upload] the transport (tests may replace it).
   */
  constructor({ concurrency = 3, limit = () => Infinity, upload = uploadFile } = {}) {
    super();
    this.concurrency = concurrency;
    this.limit = limit;
    this.upload = upload;
    this.items = [];
  }

  /** Queue files; those over the limit fail at once, without sending a byte. */
  add(files) {
    for (const file of files) {
      const item = {
        id: nextId++,
        file,
        state: "queued", // queued | uploading | done | failed | cancelled
        loaded: 0,
        total: file.size,
        speed: null, // bytes per second, once measurable
        secondsLeft: null,
        error: null, // ApiError when failed
        record: null, // the server's FILE once done
        samples: [],
        abort: null,
      };
      this.items.push(item);
      this.#checkSize(item);
      this.#emit("change", item);
    }
    this.#pump();
  }

  /** Stop an upload that waits or runs; the server keeps nothing of it. */
  cancel(item) {
    if (item.state === "uploading") {
      item.abort();
    } else if (item.state === "queued") {
      item.state = "cancelled";
      this.#emit("change", item);
    }
  }

  /** Queue a failed or cancelled upload again, from the start. */
  retry(item) {
    if (item.state !== "failed" && item.state !== "cancelled") return;
    Object.assign(item, { state: "queued", loaded: 0, error: null, speed: null, secondsLeft: null });
    this.#checkSize(item);
    this.#emit("change", item);
    this.#pump();
  }

  /** Take a finished, failed or cancelled upload off the list. */
  remove(item) {
    if (item.state === "queued" || item.state === "uploading") return;
    this.items = this.items.filter((other) => other !== item);
    this.#emit("removed", item);
  }

  /** Take every upload that ended well off the list. */
  clearFinished() {
    for (const item of this.items.filter((i) => i.state === "done")) this.remove(item);
  }

  /** Whether anything is still waiting or on the wire. */
  get busy() {
    return this.items.some((item) => item.state === "queued" || item.state === "uploading");
  }

  find(id) {
    return this.items.find((item) => item.id === id);
  }

  #checkSize(item) {
    const limit = this.limit();
    if (item.file.size > limit) {
      item.state = "failed";
      item.error = tooLargeError(limit);
    }
  }

  #pump() {
    let running = this.items.filter((item) => item.state === "uploading").length;
    for (const item of this.items) {
      if (running >= this.concurrency) break;
      if (item.state === "queued") {
        this.#start(item);
        running += 1;
      }
    }
  }

  #start(item) {
    item.state = "uploading";
    item.samples = [{ time: performance.now(), loaded: 0 }];
    const { promise, abort } = this.upload(item.file, (loaded, total) => {
      this.#progress(item, loaded, total);
    });
    item.abort = abort;
    this.#emit("change", item);
    promise.then(
      (record) => {
        Object.assign(item, { state: "done", record, loaded: item.total, secondsLeft: 0 });
        this.#emit("change", item);
        this.#emit("uploaded", { item, file: record });
      },
      (error) => {
        if (error instanceof UploadCancelled) {
          item.state = "cancelled";
        } else {
          item.state = "failed";
          item.error = error instanceof ApiError ? error : new ApiError(0, String(error));
        }
        this.#emit("change", item);
      },
    ).finally(() => {
      item.abort = null;
      this.#pump();
    });
  }

  #progress(item, loaded, total) {
    const now = performance.now();
    item.loaded = loaded;
    item.total = total;
    item.samples.push({ time: now, loaded });
    while (item.samples.length > 2 && now - item.samples[0].time > SPEED_WINDOW_MS) {
      item.samples.shift();
    }
    const first = item.samples[0];
    const span = now - first.time;
    if (span >= MIN_SPEED_SPAN_MS) {
      item.speed = ((loaded - first.loaded) * 1000) / span;
      item.secondsLeft = item.speed > 0 ? (total - loaded) / item.speed : null;
    }
    this.#emit("change", item);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
