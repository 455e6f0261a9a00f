// Building DOM without ever parsing data as HTML: text always goes in as text nodes.

/**
 * Create an element: h("a", { class: "button", href }, "Download").
 *
 * Props: "class", "text" (textContent), "dataset" (an object), anything else becomes an
 * attribute (true gives an empty attribute; null, undefined and false are skipped).
 * Children are nodes or strings (appended as text); null and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== false));
  return element;
}

/** A polite live region: screen readers read each message once, without moving focus. */
export function announcer(region) {
  let timer = 0;
  return (message) => {
    // Emptying first makes the same message count as a change when it repeats.
    region.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(() => {
      region.textContent = message;
    }, 50);
  };
}
