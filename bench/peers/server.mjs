// A peer for deno task bench (bench/http.bench.ts): express 5 with express-session, its
// MemoryStore or connect-mongo with default options. GET /whoami answers the session's user, as a
// validated request does in the service; POST /login starts a session. PORT and MONGO_URL come
// from the environment; SEED sessions are made at start so the store is not empty.
import express from "express";
import session from "express-session";
import MongoStore from "connect-mongo";

const port = Number(process.env.PORT);
const mongoUrl = process.env.MONGO_URL;
const seed = Number(process.env.SEED ?? 0);
const store = mongoUrl
  ? MongoStore.create({ mongoUrl })
  : new session.MemoryStore();
const app = express();
app.use(
  session({
    secret: "bench only",
    resave: false,
    saveUninitialized: false,
    store,
  }),
);
app.post("/login", (req, res) => {
  req.session.user = "bench-user";
  res.json({ user: req.session.user });
});
app.get("/whoami", (req, res) => {
  if (!req.session.user) {
    return res.status(401).json({ error: "Cannot get user: no session" });
  }
  res.json({ user: req.session.user });
});
const cookie = {
  originalMaxAge: 86400000,
  expires: new Date(Date.now() + 86400000),
  httpOnly: true,
  path: "/",
};
const set = (sid, value) =>
  new Promise((resolve, reject) =>
    store.set(sid, value, (e) => e ? reject(e) : resolve())
  );
for (let i = 0; i < seed; i += 500) {
  const batch = [];
  for (let j = i; j < Math.min(seed, i + 500); j++) {
    batch.push(set(`seed-${j}`, { cookie, user: `u${j}` }));
  }
  await Promise.all(batch);
}
app.listen(
  port,
  "127.0.0.1",
  () => console.log(JSON.stringify({ listening: port })),
);
