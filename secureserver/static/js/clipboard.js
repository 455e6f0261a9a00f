// Copying text for the user, and showing on the button that it worked.

const FEEDBACK_MS = 2000;

/**
 * Put ``text`` on the clipboard.
 *
 * The asynchronous Clipboard API needs a secure context, which this page always is (HTTPS);
 * the selection-based fallback covers browsers that refuse it anyway.
 *
 * @returns {Promise<boolean>} whether the text was copied.
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return copyWithSelection(text);
  }
}

/** Say "Copied" on the button for a moment, keeping its accessible name. */
export function showCopied(button) {
  const original = button.dataset.text ?? button.textContent;
  button.dataset.text = original;
  button.textContent = "Copied";
  button.classList.add("copied");
  clearTimeout(Number(button.dataset.timer));
  button.dataset.timer = String(
    setTimeout(() => {
      button.textContent = original;
      button.classList.remove("copied");
    }, FEEDBACK_MS),
  );
}

function copyWithSelection(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}
