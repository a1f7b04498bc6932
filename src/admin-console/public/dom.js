/* global document */
// Every string from the server is attacker-controlled (tenant names, error
// messages): it reaches the page only as text nodes, never as markup.

/**
 * Creates an element. `options.text` becomes its text; `options.className`
 * and `options.attributes` set fixed, page-chosen values; children are
 * elements or strings (appended as text).
 */
export function element(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attributes ?? {})) {
    node.setAttribute(name, String(value));
  }
  for (const child of children) {
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }

  return node;
}

/** A table cell holding `content` (text or an element). */
export function cell(content, options = {}) {
  return element("td", options, [content]);
}

/** Removes every child of `node`. */
export function clear(node) {
  node.replaceChildren();
}

/** The element with this id; a missing one is a bug in the page, not in the data. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`The page has no element #${id}.`);

  return node;
}
