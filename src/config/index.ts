export {
  loadConfig,
  ConfigError,
  DEVELOPMENT_ENCRYPTION_KEY,
  DEVELOPMENT_JWT_SECRET,
} from "./config.js";
export type { GatewayConfig, JobSettings, TenantLogsMode } from "./config.js";
