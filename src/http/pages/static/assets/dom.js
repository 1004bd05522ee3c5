/** Small DOM helpers shared by the pages: finding elements, messages, busy forms. */

/**
 * The element with this id; throws when the page lacks it (a broken page, not a user error).
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`Cannot find element #${id}`);
  return /** @type {T} */ (element);
}

/**
 * Shows `text` in a message region (hidden while empty); empty text hides it.
 * @param {HTMLElement} region
 * @param {string} text
 */
export function say(region, text) {
  region.textContent = text;
  region.hidden = text === "";
}

/**
 * Marks a form busy (its submit button disabled) while `work` runs.
 * @template T
 * @param {HTMLFormElement} form
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function whileBusy(form, work) {
  const buttons = [...form.querySelectorAll("button")];
  form.setAttribute("aria-busy", "true");
  for (const b of buttons) b.disabled = true;
  try {
    return await work();
  } finally {
    form.removeAttribute("aria-busy");
    for (const b of buttons) b.disabled = false;
  }
}

/**
 * The value of a form's text or password field.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {string}
 */
export function field(form, name) {
  const input = form.elements.namedItem(name);
  if (!(input instanceof HTMLInputElement)) throw new Error(`Cannot find field ${name}`);
  return input.value;
}
