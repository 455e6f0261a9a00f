// Getting files into the page: the file picker, and drag and drop anywhere on the page.
//
// The picker is the form's own <input type="file">, left in place and focusable, so it
// opens with a click on its label (the drop zone) or with Enter or Space from the keyboard.

/**
 * @param {object} parts
 * @param {HTMLFormElement} parts.form the no-JavaScript upload form, taken over here.
 * @param {HTMLElement} parts.zone
 * @param {HTMLInputElement} parts.input
 * @param {(files: File[]) => void} parts.onFiles
 * @param {(message: string) => void} parts.onRejected for things dropped that are not files.
 */
export function mountDropzone({ form, zone, input, onFiles, onRejected }) {
  form.querySelector("[type=submit]").hidden = true;
  // Files are sent one request each by the queue; the form itself is never submitted.
  input.required = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    takeFromInput();
  });
  input.addEventListener("change", takeFromInput);
  // Enter already opens the picker in some browsers; make Enter and Space work in all.
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    try {
      input.showPicker();
    } catch {
      input.click();
    }
  });

  function takeFromInput() {
    const files = [...input.files];
    // Clear it, so choosing the same file again is a new choice.
    input.value = "";
    if (files.length) onFiles(files);
  }

  // Counting enter/leave pairs tells when the drag really left the page (children fire too).
  let depth = 0;
  const carriesFiles = (event) => event.dataTransfer?.types.includes("Files");
  const setDragging = (on) => {
    document.body.classList.toggle("dragging", on);
    zone.classList.toggle("dragging", on);
  };

  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    setDragging(true);
  });
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    // Without this the browser would open the dropped file in place of the page.
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) setDragging(false);
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    setDragging(false);
    const { files, folders } = droppedFiles(event.dataTransfer);
    if (files.length) onFiles(files);
    if (folders.length) {
      const names = folders.join(", ");
      const what = folders.length === 1 ? `${names} is a folder` : `${names} are folders`;
      onRejected(`${what}: open it and drop the files inside instead.`);
    }
  });
}

/** The files of a drop, leaving out folders (a browser cannot send a folder as one file). */
function droppedFiles(dataTransfer) {
  const items = [...(dataTransfer.items ?? [])].filter((item) => item.kind === "file");
  if (!items.length) return { files: [...dataTransfer.files], folders: [] };
  const files = [];
  const folders = [];
  for (const item of items) {
    const entry = item.webkitGetAsEntry?.();
    const file = item.getAsFile();
    if (entry?.isDirectory) folders.push(entry.name);
    else if (file) files.push(file);
  }
  return { files, folders };
}
