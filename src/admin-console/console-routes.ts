import type { Express, Response } from "express";
import type { ConsoleAsset, ConsoleAssets } from "./console-assets.js";
import { setConsoleHeaders } from "./security-headers.js";

function send(res: Response, asset: ConsoleAsset, cacheControl: string): void {
  setConsoleHeaders(res);
  res.set({ "Content-Type": asset.contentType, "Cache-Control": cacheControl });
  res.send(asset.body);
}

/**
 * Mounts the global admin console: `GET /admin` (the page) and
 * `GET /admin/assets/<file>` (its script, style and chart.js). Everything
 * here is static and public, in production too: the page holds no data and
 * reads everything through `/graphql` with the token a person signs in with.
 * `assets` come from `loadConsoleAssets()`, read once at start.
 */
export function mountAdminConsole(app: Express, assets: ConsoleAssets): void {
  app.get("/admin", (_req, res) => {
    send(res, assets.page, "no-store");
  });
  app.get("/admin/assets/:file", (req, res) => {
    const asset = assets.files.get(req.params.file);
    if (!asset) {
      setConsoleHeaders(res);
      res.status(404).type("text/plain").send("Not found");
      return;
    }
    // Revalidated on every load (express adds an ETag), so a new release
    // never runs next to a stale script.
    send(res, asset, "no-cache");
  });
}
