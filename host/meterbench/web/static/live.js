// The lab server's only script: draws the state pushed by server-sent events, and moves a
// barcode scanner's input (which types a serial and Enter) on to the next position.
"use strict";

function text(el, value) {
  if (el && el.textContent !== String(value)) { el.textContent = String(value); }
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) { return "—"; }
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return (h ? h + " h " : "") + m + " min " + (s % 60) + " s";
}

function drawRun(state) {
  text(document.getElementById("status"), state.status);
  text(document.getElementById("paused"), state.paused ? " (" + state.paused + ")" : "");
  text(document.getElementById("step"), state.step + "/" + state.steps);
  text(document.getElementById("current"), state.current);
  text(document.getElementById("elapsed"), duration(state.elapsed_s));
  text(document.getElementById("remaining"), duration(state.remaining_s));
  text(document.getElementById("readings"), state.readings);
  text(document.getElementById("worker"), state.worker || "—");
  for (const p of state.positions) {
    const row = document.querySelector('#positions tr[data-position="' + p.position + '"]');
    if (!row) { continue; }
    text(row.querySelector(".item"), p.item);
    text(row.querySelector(".point"), p.point);
    text(row.querySelector(".result"), p.result || "");
    text(row.querySelector(".verdict"), p.verdict);
    text(row.querySelector(".error"), p.last_error || "");
    text(row.querySelector(".link"), p.link);
    row.className = p.verdict === "fail" ? "fail" : (p.link !== "ok" ? "warn" : "");
  }
  const events = document.getElementById("events");
  if (events) {
    events.replaceChildren(...state.events.map(function (e) {
      const li = document.createElement("li");
      li.className = e.severity;
      li.textContent = e.at + " " + e.kind + ": " + e.message;
      return li;
    }));
  }
  const section = document.getElementById("run");
  if (section && section.dataset.status && section.dataset.status !== state.status) {
    window.location.reload(); // the run ended: show sign-off and documents
  }
  if (section) { section.dataset.status = state.status; }
}

function drawBenches(list) {
  for (const b of list) {
    const row = document.querySelector('#benches tr[data-bench="' + b.bench + '"]');
    if (!row) { continue; }
    text(row.querySelector(".worker"), b.worker || "—");
    text(row.querySelector(".now"), b.step || "");
    const run = row.querySelector(".run");
    const link = run.querySelector("a");
    if (b.run_id && (!link || link.textContent !== b.run_id)) {
      window.location.reload();
      return;
    }
  }
}

function listen(element, draw) {
  const source = new EventSource(element.dataset.live);
  source.onmessage = function (message) { draw(JSON.parse(message.data)); };
}

const runSection = document.getElementById("run");
if (runSection) { listen(runSection, drawRun); }
const benchTable = document.getElementById("benches");
if (benchTable) { listen(benchTable, drawBenches); }

for (const input of document.querySelectorAll("input.scan")) {
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    event.preventDefault(); // a scanner's Enter moves on, it does not submit the form
    const all = Array.from(document.querySelectorAll("input.scan"));
    const next = all[all.indexOf(input) + 1];
    if (next) { next.focus(); }
  });
}
