/** The floor of deno task bench: a bare Deno.serve answering `{"ok":true}` (PORT from the environment). */
Deno.serve(
  {
    hostname: "127.0.0.1",
    port: Number(Deno.env.get("PORT")),
    onListen: () => console.log("listening"),
  },
  () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } }),
);
