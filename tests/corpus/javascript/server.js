// Express samples for the JavaScript starter rules.
const express = require("express");
const child_process = require("child_process");
const fs = require("fs");
const path = require("path");
const escapeHtml = require("escape-html");
const { Pool } = require("pg");

const app = express();
const db = new Pool();
const ALLOWED = ["/home", "/settings"];

app.get("/users", async (req, res) => {
  // ruleid: js-sql-injection
  const rows = await db.query("SELECT * FROM users WHERE name = '" + req.query.name + "'");
  // ok: js-sql-injection
  const safe = await db.query("SELECT * FROM users WHERE name = $1", [req.query.name]);
  res.json({ rows: rows.rows, safe: safe.rows });
});

app.post("/ping", (req, res) => {
  const host = req.body.host;
  // ruleid: js-command-injection
  child_process.exec(`ping -c 1 ${host}`, (err, out) => res.send(escapeHtml(out)));
});

app.post("/ping/safe", (req, res) => {
  // ok: js-command-injection
  child_process.execFile("ping", ["-c", "1", req.body.host], (err, out) => res.json({ out }));
});

app.post("/calc", (req, res) => {
  // ruleid: js-code-injection
  const value = eval(req.body.expression);
  // ok: js-code-injection
  const data = JSON.parse(req.body.data);
  // ok: js-code-injection
  setTimeout(() => console.log(req.body.note), 10);
  res.json({ value, data });
});

app.get("/hello", (req, res) => {
  // ruleid: js-xss
  res.send("<h1>Hello " + req.query.name + "</h1>");
});

app.get("/hello/safe", (req, res) => {
  // ok: js-xss
  res.send("<h1>Hello " + escapeHtml(req.query.name) + "</h1>");
});

app.get("/login/done", (req, res) => {
  // ruleid: js-open-redirect
  res.redirect(req.query.next);
});

app.get("/login/checked", (req, res) => {
  const next = req.query.next;
  if (!ALLOWED.includes(next)) {
    return res.status(400).end();
  }
  // ok: js-open-redirect
  res.redirect(next);
});

app.get("/docs/:page", (req, res) => {
  // ok: js-open-redirect
  res.redirect("/docs/v2/" + req.params.page);
});

app.get("/files/:name", (req, res) => {
  // ruleid: js-path-traversal
  fs.readFile(path.join("/srv/files", req.params.name), (err, data) => res.json({ data }));
});

app.get("/files/safe/:name", (req, res) => {
  // ok: js-path-traversal
  fs.readFile(path.join("/srv/files", path.basename(req.params.name)), (err, data) => res.json({ data }));
});

app.listen(3000);
