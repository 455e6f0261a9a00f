// Asking before deleting, in a modal <dialog>: it keeps focus inside, closes on Escape, and
// gives focus back to the button that opened it.

/**
 * Ask whether ``name`` should be deleted.
 *
 * @param {HTMLDialogElement} dialog the page's confirmation dialog (its buttons' values are
 *     "cancel" and "delete").
 * @returns {Promise<boolean>} true only when the user chose Delete.
 */
export function confirmDelete(dialog, name) {
  dialog.querySelector("[data-confirm-name]").textContent = name;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"), { once: true });
  });
}
