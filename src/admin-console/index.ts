export { loadConsoleAssets, type ConsoleAssets } from "./console-assets.js";
export { mountAdminConsole } from "./console-routes.js";
export { CONSOLE_CSP } from "./security-headers.js";
