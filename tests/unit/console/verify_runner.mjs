// Runs the console's browser verifier under Node (its globalThis.crypto.subtle is WebCrypto) for
// tests/unit/console/test_draw_verify_js.py. Reads one JSON document on stdin, prints one on stdout.
//
//   node verify_runner.mjs verify   stdin: [publication, …]    stdout: [{result, firstDifference, recomputed, text}, …]
//   node verify_runner.mjs verify-without-webcrypto   the same, with no globalThis.crypto (a page not in a secure context)
//   node verify_runner.mjs page     stdin: {genuine: "<the JSON text of a publication>", tampered: "<another>"}
//        loads public-plan.js into a small stand-in for the page's DOM (#publication, #verify-outcome,
//        #verify-again), fires DOMContentLoaded, then puts the tampered text into #publication and clicks
//        #verify-again; stdout: {runs: [{states, disabledWhilePending, text, result}, …]}

import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const scripts = path.resolve(here, "../../../services/console/static/js");
const input = JSON.parse(readFileSync(0, "utf-8"));

class FakeElement {
  constructor(id, text = "") {
    this.id = id;
    this.textContent = text;
    this.disabled = false;
    this.attributes = new Map();
    this.listeners = new Map();
    this.states = []; // every data-verify-result written, with the button's state at that moment
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
    if (name === "data-verify-result") this.states.push([String(value), this.page.getElementById("verify-again").disabled]);
  }

  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }

  addEventListener(type, listener) {
    this.listeners.set(type, [...(this.listeners.get(type) || []), listener]);
  }

  fire(type) {
    for (const listener of this.listeners.get(type) || []) listener({ type, target: this });
  }
}

class FakeDocument extends FakeElement {
  constructor(elements) {
    super("document");
    this.readyState = "loading";
    this.elements = new Map(elements.map((element) => [element.id, element]));
    for (const element of elements) element.page = this;
  }

  getElementById(id) {
    return this.elements.get(id) || null;
  }
}

async function verify(publications) {
  const { verifyPublication, describe } = await import(pathToFileURL(path.join(scripts, "draw-verify.js")).href);
  const outcomes = [];
  for (const publication of publications) {
    const outcome = await verifyPublication(publication);
    outcomes.push({ ...outcome, text: describe(outcome) });
  }
  return outcomes;
}

async function page({ genuine, tampered }) {
  const data = new FakeElement("publication", genuine);
  const outcome = new FakeElement("verify-outcome");
  const again = new FakeElement("verify-again");
  const doc = new FakeDocument([data, outcome, again]);
  globalThis.document = doc; // public-plan.js wires itself to the page's document when it is loaded
  const module = await import(pathToFileURL(path.join(scripts, "public-plan.js")).href);
  const runs = [];
  const record = async () => {
    const result = await module.verifyPage(doc); // the run in progress, started by the page's own handler
    const states = outcome.states.splice(0);
    runs.push({
      states: states.map(([state]) => state),
      disabledWhilePending: states.filter(([state]) => state === "pending").map(([, disabled]) => disabled),
      disabledAfter: again.disabled,
      text: outcome.textContent,
      attribute: outcome.getAttribute("data-verify-result"),
      result,
    });
  };
  const before = outcome.states.length;
  doc.readyState = "interactive";
  doc.fire("DOMContentLoaded");
  if (outcome.states.length === before) throw new Error("DOMContentLoaded did not start a verification");
  await record();
  data.textContent = tampered;
  again.fire("click");
  await record();
  return { runs };
}

const mode = process.argv[2];
if (mode === "verify-without-webcrypto") {
  // a browser on a plain-HTTP intranet address (no secure context) has no crypto.subtle
  Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true });
}
const output = mode.startsWith("verify") ? await verify(input) : mode === "page" ? await page(input) : null;
if (output === null) throw new Error(`unknown mode ${mode}`);
process.stdout.write(JSON.stringify(output));
