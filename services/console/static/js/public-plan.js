// 一公开：the public page of a draw (/public/plans/{plan_id}) verifies the draw in the browser.
//
//   <script type="application/json" id="publication">{…GET /plans/{plan_id}/publication, as returned…}</script>
//   <p id="verify-outcome" data-verify-result="pending" role="status" aria-live="polite"></p>
//   <button type="button" id="verify-again">重新核验</button>
//   <script type="module" src="/static/js/public-plan.js"></script>
//
// On DOMContentLoaded (or at once when the page is already loaded) and on every click of #verify-again, the
// publication is read again from #publication, recomputed by draw-verify.js (WebCrypto SHA-256, never the
// server's answer), the sentence written into #verify-outcome and its data-verify-result set to "match",
// "mismatch" or "unsupported" ("pending" while it runs; the button is disabled meanwhile).

import { describe, verifyPublication } from "./draw-verify.js";

const RUNNING_TEXT = "正在本浏览器中重新计算抽取结果……";

function readPublication(doc) {
  const element = doc.getElementById("publication");
  if (!element) return { missing: "本页没有可核验的公开数据（#publication）" };
  try {
    return { publication: JSON.parse(element.textContent) };
  } catch (error) {
    return { missing: `本页的公开数据不是有效的 JSON：${error.message}` };
  }
}

let running = null;

/** Verify the page's publication once (a click while it runs waits for that run); resolves to the outcome. */
export function verifyPage(doc = document) {
  if (running) return running;
  running = (async () => {
    const outcome = doc.getElementById("verify-outcome");
    const again = doc.getElementById("verify-again");
    if (again) again.disabled = true;
    if (outcome) {
      outcome.setAttribute("data-verify-result", "pending");
      outcome.setAttribute("aria-busy", "true");
      outcome.textContent = RUNNING_TEXT;
    }
    let result;
    const read = readPublication(doc);
    if (read.missing) {
      result = { result: "unsupported", firstDifference: read.missing, recomputed: {} };
    } else {
      try {
        result = await verifyPublication(read.publication);
      } catch (error) {
        result = { result: "unsupported", firstDifference: `核验程序出错：${error && error.message ? error.message : error}`, recomputed: {} };
      }
    }
    if (again) again.disabled = false;
    if (outcome) {
      outcome.textContent = describe(result);
      outcome.setAttribute("data-verify-result", result.result);
      outcome.setAttribute("aria-busy", "false");
    }
    return result;
  })();
  running.finally(() => { running = null; });
  return running;
}

/** Verify now and on every click of #verify-again. */
export function start(doc = document) {
  const again = doc.getElementById("verify-again");
  if (again) again.addEventListener("click", () => { verifyPage(doc); });
  return verifyPage(doc);
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => { start(document); }, { once: true });
  } else {
    start(document);
  }
}
