// An access.json as the appliance writes it (appliance/publish/gallery_access.py), made here with
// node's crypto for the Functions' tests. Not a route and not under test/.
import { pbkdf2Sync, randomBytes } from "node:crypto";

export function accessJson(password, iterations = 2000) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(Buffer.from(password.normalize("NFC")), salt, iterations, 32, "sha256");
  return JSON.stringify({ v: 1, kdf: "pbkdf2-sha256", iterations, salt: salt.toString("base64"),
    hash: hash.toString("base64") });
}
