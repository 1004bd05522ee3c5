import assert from "node:assert/strict";
import { deviceName, UNKNOWN_DEVICE } from "./user_agent.ts";

const CHROME_LINUX =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

Deno.test("deviceName() names the browser with its major version and the OS", () => {
  const cases: Array<[string, string]> = [
    [CHROME_LINUX, "Chrome 120 on Linux"],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
      "Firefox 128 on Windows",
    ],
    [
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
      "Safari 17 on macOS",
    ],
    [
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
      "Microsoft Edge 124 on macOS",
    ],
    [
      "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
      "Chrome 124 on Android",
    ],
    [
      "Mozilla/5.0 (Linux; Android 13; SM-S908B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
      "Samsung Internet 23 on Android",
    ],
    [
      "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
      "Chrome 120 on Chrome OS",
    ],
  ];
  for (const [ua, expected] of cases) assert.equal(deviceName(ua), expected, ua);
});

Deno.test("deviceName() names an iPhone or iPad rather than iOS", () => {
  assert.equal(
    deviceName(
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    ),
    "Safari 17 on iPhone",
  );
  assert.equal(
    deviceName(
      "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
    ),
    "Chrome 120 on iPad",
  );
});

Deno.test("deviceName() names a non-browser client by its product token", () => {
  assert.equal(deviceName("curl/8.5.0"), "curl 8");
  assert.equal(deviceName("python-requests/2.31.0"), "python-requests 2");
  assert.equal(deviceName("okhttp/4.12.0"), "okhttp 4");
  assert.equal(deviceName("node"), "node");
  assert.equal(
    deviceName("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    "Googlebot 2",
  );
});

Deno.test("deviceName() says Unknown device for a missing, blank or unreadable user agent", () => {
  assert.equal(deviceName(undefined), UNKNOWN_DEVICE);
  assert.equal(deviceName(""), UNKNOWN_DEVICE);
  assert.equal(deviceName("   "), UNKNOWN_DEVICE);
  assert.equal(deviceName("<script>alert(1)</script>"), UNKNOWN_DEVICE);
  assert.equal(deviceName("\u0000\u0001"), UNKNOWN_DEVICE);
});

Deno.test("deviceName() keeps the name short and free of markup whatever the header holds", () => {
  const long = `${"a".repeat(200)}/1 ${"<b>".repeat(5000)}`;
  assert.equal(deviceName(long), `${"a".repeat(40)} 1`);
  assert.equal(deviceName("Foo/1.0 <img src=x onerror=alert(1)>"), "Foo 1");
  assert.ok(deviceName(`${CHROME_LINUX} ${"x".repeat(100_000)}`).length <= 80);
  assert.equal(deviceName(`${CHROME_LINUX} ${"x".repeat(100_000)}`), "Chrome 120 on Linux");
});
