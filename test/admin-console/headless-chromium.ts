import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's package; playwright-core never downloads a browser of its own here. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Debian's chromium headless, with a fresh temporary profile.
 * Fails (never skips) when it is not installed, saying how to install it.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The admin console test needs Debian's chromium at ${CHROMIUM_PATH}: ` +
        "install it with `apt-get install -y chromium` (.ci/run does so when it is missing).",
    );
  }

  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}
