/* global document, setInterval, clearInterval */
// The console's entry: signs in and out, and loads the three sections
// together, on demand, on a timer and when the window changes.
import { renderClusters } from "./cluster-table.js";
import { byId } from "./dom.js";
import { QueryError, runQuery, SESSION_CODES } from "./graphql-client.js";
import { ERROR_CLUSTERS, TENANTS, TRAFFIC } from "./operations.js";
import { forgetToken, keepToken, storedToken } from "./session.js";
import { renderTenants } from "./tenant-table.js";
import { TrafficChart } from "./traffic-chart.js";

const AUTO_REFRESH_MS = 30_000;
/** Clusters shown: the most frequent in the chosen window. */
const CLUSTERS_SHOWN = 20;

/** What a person is told when the token itself is refused. */
const SESSION_MESSAGES = {
  FORBIDDEN:
    "This console is for global admins. The token you signed in with is not a global admin's: sign in with one.",
  UNAUTHENTICATED: "The token was refused: it is invalid or has expired. Sign in with a new one.",
};

const page = {
  status: byId("status"),
  signIn: byId("sign-in"),
  signInForm: byId("sign-in-form"),
  signInError: byId("sign-in-error"),
  token: byId("token"),
  console: byId("console"),
  controls: byId("session-controls"),
  refresh: byId("refresh"),
  autoRefresh: byId("auto-refresh"),
  signOut: byId("sign-out"),
  window: byId("window"),
  tenants: byId("tenants").tBodies[0],
  clusters: byId("clusters").tBodies[0],
};

const sections = {
  tenants: { root: byId("tenants-section"), state: byId("tenants-state") },
  traffic: { root: byId("traffic-section"), state: byId("traffic-state") },
  clusters: { root: byId("clusters-section"), state: byId("clusters-state") },
};

const traffic = new TrafficChart(byId("traffic-chart"), byId("traffic-table"));

/** Bumped at every sign-in and sign-out, so a late answer of an old session is dropped. */
let session = 0;
let loading = false;
let again = false;
let timer = null;

function say(text) {
  page.status.textContent = text;
}

function describe(error) {
  if (!(error instanceof QueryError)) return error.message;
  const id = error.requestId ? `, request ${error.requestId}` : "";

  return `${error.message} (${error.code}${id})`;
}

function showSectionState(section, text, tone) {
  section.state.hidden = !text;
  section.state.textContent = text ?? "";
  section.state.className = `section-state${tone ? ` tone-${tone}` : ""}`;
}

function showSignIn(message) {
  page.console.hidden = true;
  page.controls.hidden = true;
  page.signIn.hidden = false;
  page.signInError.hidden = !message;
  page.signInError.textContent = message ?? "";
  page.token.focus();
}

function showConsole() {
  page.signIn.hidden = true;
  page.signInError.hidden = true;
  page.console.hidden = false;
  page.controls.hidden = false;
}

function clearData() {
  page.tenants.replaceChildren();
  page.clusters.replaceChildren();
  traffic.clear();
  for (const section of Object.values(sections)) showSectionState(section, null);
}

/** Ends the session: forgets the token and every number shown with it. */
function endSession(message) {
  session += 1;
  forgetToken();
  clearInterval(timer);
  timer = null;
  clearData();
  showSignIn(message);
}

function startSession(token) {
  session += 1;
  keepToken(token);
  showConsole();
  timer = setInterval(() => {
    if (page.autoRefresh.checked && !document.hidden) void refresh();
  }, AUTO_REFRESH_MS);
  void refresh();
}

/**
 * Draws one section's answer, or says why it has none (keeping what it
 * showed). Returns "ok", "partial" (drawn, but some fields failed) or "failed".
 */
function settle(section, outcome, render) {
  if (outcome.status === "rejected") {
    showSectionState(section, `Could not load: ${describe(outcome.reason)}`, "bad");
    return "failed";
  }
  const { data, errors } = outcome.value;
  render(data);
  if (errors.length === 0) {
    showSectionState(section, null);
    return "ok";
  }
  showSectionState(section, `Partly loaded: ${errors.map(describe).join("; ")}`, "warn");

  return "partial";
}

/** The status line after a load, from each section's outcome. */
function summary(results) {
  const at = new Date().toLocaleTimeString();
  if (results.every((r) => r === "ok")) return `Updated at ${at}.`;
  if (results.every((r) => r === "failed")) {
    return `Could not load at ${at}: see the sections marked.`;
  }

  return `Updated at ${at}, with errors: see the sections marked.`;
}

async function load(token, mine) {
  const hours = Number(page.window.value);
  const outcomes = await Promise.allSettled([
    runQuery(token, TENANTS),
    runQuery(token, TRAFFIC, { hours }),
    runQuery(token, ERROR_CLUSTERS, { first: CLUSTERS_SHOWN, hours }),
  ]);
  if (mine !== session) return;

  const refused = outcomes.find(
    (o) => o.status === "rejected" && SESSION_CODES.has(o.reason?.code),
  );
  if (refused) {
    endSession(SESSION_MESSAGES[refused.reason.code]);
    say("Signed out: the token was refused.");
    return;
  }
  const [tenants, series, clusters] = outcomes;
  say(
    summary([
      settle(sections.tenants, tenants, (data) => renderTenants(page.tenants, data)),
      settle(sections.traffic, series, (data) => traffic.render(data)),
      settle(sections.clusters, clusters, (data) => renderClusters(page.clusters, data)),
    ]),
  );
}

/**
 * Reloads every section. Asked again while a load runs (the window changed,
 * a new session began), it loads once more when that one ends, so the page
 * always ends up showing the latest choice.
 */
async function refresh() {
  const token = storedToken();
  if (!token) return;
  if (loading) {
    again = true;
    return;
  }

  loading = true;
  say("Loading…");
  for (const section of Object.values(sections)) section.root.setAttribute("aria-busy", "true");
  try {
    await load(token, session);
  } catch (error) {
    say(`The console failed: ${error.message}`);
  } finally {
    loading = false;
    for (const section of Object.values(sections)) section.root.removeAttribute("aria-busy");
  }
  if (again) {
    again = false;
    void refresh();
  }
}

page.signInForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const token = page.token.value.trim();
  page.token.value = "";
  if (!token) {
    showSignIn("Paste a token first.");
    return;
  }
  startSession(token);
});

page.signOut.addEventListener("click", () => {
  endSession(null);
  say("Signed out.");
});
page.refresh.addEventListener("click", () => void refresh());
page.window.addEventListener("change", () => void refresh());
// A hidden tab skips its timed refreshes; it catches up when seen again.
document.addEventListener("visibilitychange", () => {
  if (timer && page.autoRefresh.checked && !document.hidden) void refresh();
});

const token = storedToken();
if (token) {
  startSession(token);
} else {
  showSignIn(null);
  say("Signed out.");
}
