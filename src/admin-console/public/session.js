/* global sessionStorage */
// The token lives in this tab's sessionStorage only: never in the URL, a
// cookie or localStorage, so it leaves with the tab or the sign-out.

const TOKEN_KEY = "newfinity-admin-token";

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function keepToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}
