export { createSecretBox, SecretTamperedError, type SecretBox } from "./secret-box.js";
