/**
 * A self-signed certificate for the tests that serve HTTPS: made by `openssl` into a folder the
 * test owns (and removes), for 127.0.0.1 and localhost, valid for one day.
 */
import assert from "node:assert/strict";

/** Makes `cert.pem` and `key.pem` in `dir` and returns their paths. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const made = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(
    made.code,
    0,
    `openssl could not make a certificate: ${new TextDecoder().decode(made.stderr)}`,
  );
  return { cert, key };
}
