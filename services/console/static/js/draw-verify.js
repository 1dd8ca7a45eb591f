// 一公开：在浏览器中核验一次双随机抽取（算法 ohs-draw-v1）。
//
// A plain ES module (no build step, no dependency): `verifyPublication(publication)` takes exactly the JSON
// the sampling service returns at GET /plans/{plan_id}/publication and recomputes the draw from it alone,
// with the browser's WebCrypto SHA-256 — never the server's POST /verify answer. Written from the documented
// algorithm (docs/api.md, "Sampling plans and draws") and checked against the service's own verifier
// (services/sampling/domain/publication.py) by tests/unit/console/test_draw_verify_js.py:
//
//   1. H(seed) == commitment, where H(x) is the lowercase hex SHA-256 of the UTF-8 bytes of x;
//   2. the pool is sorted by credit code and its hash is H of its canonical JSON
//      (json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False));
//   3. per category 甲, 乙, 丙: n = min(size, max(minimum, ceil(ratio × size))) computed exactly (BigInt, the
//      ratio's decimal text: 0.1 × 30 is 3), full-coverage members all taken and counted in n, the other
//      max(0, n − full) with the smallest H(seed|category|credit_code); targets listed by category, then key;
//      a 甲 target is non-site when the plan says so;
//   4. inspectors: targets in that order, the roster minus those with a declared conflict (回避), sorted by
//      (load, H(seed|inspector|credit_code|inspector_id)), the first inspectors_per_task taken, their load + 1;
//   5. the recomputed targets (credit code, category, selection, on_site, inspector ids in order) are compared
//      with the published ones; the first difference is said in Chinese.
//
// Where the service's verifier coerces a published value (str(), bool(), int()), this module does the same,
// so the two agree on what a publication means.
//
// Outcome: {result: "match" | "mismatch" | "unsupported", firstDifference: string | null, recomputed: {...}}.
// "unsupported": nothing this page can verify — another algorithm version, a plan not drawn yet (or handed
// down to its counties), no WebCrypto in this browser (it needs HTTPS or a local address), a document that
// is no publication. `describe(outcome)` is the sentence to show.

export const ALGORITHM = "ohs-draw-v1";
export const CATEGORIES = Object.freeze(["甲", "乙", "丙"]);
const MIN_INSPECTORS_PER_TASK = 2n;
const HASH_BATCH = 2048; // digests requested at once

const FIELD_WORDS = {
  category: "类别",
  selection: "抽取方式",
  on_site: "检查方式",
  inspectors: "检查人员",
};
const SELECTION_WORDS = { random: "随机抽取", full_coverage: "全覆盖" };
const STATUS_WORDS = { committed: "已承诺、未抽取", handed_down: "已下发各县", drawn: "已抽取", completed: "已完成" };

// ------------------------------------------------------------------------------------------- outcome

class Outcome extends Error {
  constructor(result, words) {
    super(words);
    this.result = result;
    this.words = words;
  }
}

const mismatch = (words) => new Outcome("mismatch", words);
const unsupported = (words) => new Outcome("unsupported", words);

// ------------------------------------------------------------------------------------------- SHA-256

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

function subtle() {
  const found = globalThis.crypto && globalThis.crypto.subtle;
  if (!found || typeof found.digest !== "function") {
    throw unsupported("此浏览器环境不提供 WebCrypto（crypto.subtle），无法计算 SHA-256；请通过 HTTPS 或本机地址打开本页，或使用较新的浏览器");
  }
  return found;
}

function hex(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (let at = 0; at < bytes.length; at += 1) text += HEX[bytes[at]];
  return text;
}

/** H(text): the lowercase hex SHA-256 of the UTF-8 bytes of `text` (WebCrypto). */
export async function sha256Hex(text) {
  return hex(await subtle().digest("SHA-256", encoder.encode(text)));
}

/** H of each text, in order, a batch of digests at a time. */
async function sha256HexAll(texts) {
  const crypto = subtle();
  const keys = new Array(texts.length);
  for (let start = 0; start < texts.length; start += HASH_BATCH) {
    const batch = texts.slice(start, start + HASH_BATCH);
    const digests = await Promise.all(batch.map((text) => crypto.digest("SHA-256", encoder.encode(text))));
    digests.forEach((digest, offset) => { keys[start + offset] = hex(digest); });
  }
  return keys;
}

// ------------------------------------------------------------------------------------------- Python's coercions

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

// str.strip(): the characters Python calls whitespace
const PY_SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");
const pyStrip = (text) => text.replace(PY_STRIP, "");

/** bool(value) for a JSON value. */
function pyTruthy(value) {
  if (value === null || value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return Object.keys(value).length > 0;
}

/** repr(float) (shortest round trip; exponent below 1e-4 and from 1e16). */
function pyFloat(value) {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const [mantissa, exponentText] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    return `${mantissa}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const fixed = value.toFixed(Math.max(0, (mantissa.split(".")[1] || "").length - exponent));
  return fixed.includes(".") ? fixed : `${fixed}.0`;
}

/** str(value) for a JSON scalar (a JSON number without a fraction taken as Python's int); null for a list or object. */
function pyStr(value) {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null) return "None";
  if (typeof value === "number") return Number.isInteger(value) && Math.abs(value) < 1e21 ? BigInt(value).toString() : pyFloat(value);
  return null;
}

/** int(value): a BigInt, or null where Python raises. */
function pyInt(value) {
  if (typeof value === "boolean") return value ? 1n : 0n;
  if (typeof value === "number") return Number.isFinite(value) ? BigInt(Math.trunc(value)) : null;
  if (typeof value === "string") {
    const text = pyStrip(value);
    return /^[+-]?[0-9]+(?:_[0-9]+)*$/.test(text) ? BigInt(text.replace(/_/g, "")) : null;
  }
  return null;
}

/** Compare two strings by code point, as Python does (JavaScript's < compares UTF-16 code units). */
function compareCodePoints(a, b) {
  const length = Math.min(a.length, b.length);
  for (let at = 0; at < length; at += 1) {
    let x = a.charCodeAt(at);
    let y = b.charCodeAt(at);
    if (x !== y) {
      // a surrogate (an astral code point) sorts after U+E000–U+FFFF by code point
      x = x >= 0xe000 ? x - 0x800 : x >= 0xd800 ? x + 0x2000 : x;
      y = y >= 0xe000 ? y - 0x800 : y >= 0xd800 ? y + 0x2000 : y;
      return x - y;
    }
  }
  return a.length - b.length;
}

// ------------------------------------------------------------------------------------------- exact ratios

const DECIMAL = /^([+-])?(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?$/;

/** ratio_text(value) as an exact decimal {coefficient, exponent} (value = coefficient × 10^exponent), or null
 * unless 0 ≤ value ≤ 1 (Decimal(str(value).strip()); Decimal drops "_"). */
function exactRatio(value) {
  if (typeof value === "boolean") return null;
  const text = pyStr(value);
  if (text === null) return null;
  const match = DECIMAL.exec(pyStrip(text).replace(/_/g, ""));
  if (!match) return null;
  const [, sign, whole, fraction, onlyFraction, exponentText] = match;
  const digits = whole !== undefined ? whole + (fraction || "") : onlyFraction;
  const places = whole !== undefined ? (fraction || "").length : onlyFraction.length;
  const coefficient = BigInt(digits);
  const exponent = BigInt(exponentText || "0") - BigInt(places);
  if (coefficient === 0n) return { coefficient, exponent: 0n };
  if (sign === "-") return null;
  const length = BigInt(coefficient.toString().length);
  const magnitude = length + exponent; // 10^(magnitude − 1) ≤ value < 10^magnitude
  if (magnitude > 1n) return null;
  if (magnitude === 1n && coefficient !== 10n ** (length - 1n)) return null; // in [1, 10): only 1 itself
  return { coefficient, exponent };
}

/** ceil(ratio × size), exactly. */
function ceilTimes(ratio, size) {
  const { coefficient, exponent } = ratio;
  if (coefficient === 0n || size === 0n) return 0n;
  if (exponent >= 0n) return coefficient * 10n ** exponent * size;
  const magnitude = BigInt(coefficient.toString().length) + exponent;
  if (magnitude + BigInt(size.toString().length) <= 0n) return 1n; // 0 < ratio × size < 1
  const numerator = coefficient * size;
  const denominator = 10n ** -exponent;
  return (numerator + denominator - 1n) / denominator;
}

/** n = min(size, max(minimum, ceil(ratio × size))). */
function quota(ratio, minimum, size) {
  const big = BigInt(size);
  const wanted = ceilTimes(ratio, big);
  const atLeast = minimum > wanted ? minimum : wanted;
  return Number(atLeast < big ? atLeast : big);
}

// ------------------------------------------------------------------------------------------- reading the publication

const show = (value) => (value === undefined ? "（无）" : typeof value === "string" ? value : JSON.stringify(value));

function parsePool(record) {
  if (!has(record, "pool") || !Array.isArray(record.pool)) throw mismatch("公布的名录库（pool）缺失或无法读取");
  return record.pool.map((member, at) => {
    const where = `公布的名录库（pool）第${at + 1}项无法读取`;
    if (!isObject(member)) throw mismatch(`${where}：不是一个单位`);
    for (const key of ["credit_code", "category"]) {
      if (!has(member, key)) throw mismatch(`${where}：缺少 ${key}`);
    }
    const creditCode = pyStr(member.credit_code);
    const category = pyStr(member.category);
    if (creditCode === null || category === null) throw mismatch(`${where}：统一社会信用代码或类别不是文本`);
    return { credit_code: creditCode, category, full_coverage: pyTruthy(has(member, "full_coverage") ? member.full_coverage : false) };
  });
}

/** The canonical JSON of the pool, as Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False). */
export function canonicalPoolJson(pool) {
  const entries = pool.map((e) => `{"category":${JSON.stringify(e.category)},"credit_code":${JSON.stringify(e.credit_code)},`
    + `"full_coverage":${e.full_coverage ? "true" : "false"}}`);
  return `[${entries.join(",")}]`;
}

function parseParameters(plan) {
  const where = "抽查计划的参数无法读取";
  if (!has(plan, "ratios") || !isObject(plan.ratios)) throw mismatch(`${where}：缺少抽查比例（ratios）`);
  const minimums = has(plan, "minimums") ? plan.minimums : {};
  if (!isObject(minimums)) throw mismatch(`${where}：最低抽查数（minimums）不是按类别给出的数`);
  const ratios = {};
  const least = {};
  for (const category of CATEGORIES) {
    const ratio = has(plan.ratios, category) ? plan.ratios[category] : "0";
    ratios[category] = exactRatio(ratio);
    if (ratios[category] === null) throw mismatch(`${where}：${category}类的抽查比例 ${show(ratio)} 不是 0 到 1 之间的数`);
    const minimum = has(minimums, category) ? minimums[category] : 0;
    least[category] = pyInt(minimum);
    if (least[category] === null) throw mismatch(`${where}：${category}类的最低抽查数 ${show(minimum)} 不是整数`);
  }
  if (!has(plan, "inspectors_per_task")) throw mismatch(`${where}：缺少每项任务的检查人员数（inspectors_per_task）`);
  const perTask = pyInt(plan.inspectors_per_task);
  if (perTask === null) throw mismatch(`${where}：每项任务的检查人员数 ${show(plan.inspectors_per_task)} 不是整数`);
  if (!has(plan, "jia_non_site")) throw mismatch(`${where}：缺少甲类是否非现场检查（jia_non_site）`);
  return { ratios, minimums: least, perTask, jiaNonSite: pyTruthy(plan.jia_non_site) };
}

/** frozenset(value) of a roster entry's conflicts: the strings among them (a credit code is a string). */
function conflictSet(value, where) {
  if (typeof value === "string") return new Set(Array.from(value));
  if (isObject(value)) return new Set(Object.keys(value));
  if (!Array.isArray(value)) throw mismatch(`${where}：回避（conflicts）不是统一社会信用代码的列表`);
  if (value.some((item) => item !== null && typeof item === "object")) throw mismatch(`${where}：回避（conflicts）中有无法读取的项`);
  return new Set(value.filter((item) => typeof item === "string"));
}

function parseRoster(record) {
  if (!has(record, "roster") || !Array.isArray(record.roster)) throw mismatch("公布的检查人员名单（roster）缺失或无法读取");
  return record.roster.map((inspector, at) => {
    const where = `公布的检查人员名单（roster）第${at + 1}项无法读取`;
    if (!isObject(inspector)) throw mismatch(`${where}：不是一名检查人员`);
    if (!has(inspector, "id")) throw mismatch(`${where}：缺少 id`);
    const id = pyStr(inspector.id);
    if (id === null) throw mismatch(`${where}：id 不是文本`);
    const name = has(inspector, "name") && typeof inspector.name === "string" ? inspector.name : "";
    return { id, name, conflicts: conflictSet(has(inspector, "conflicts") ? inspector.conflicts : [], where) };
  });
}

/** tuple(t["inspectors"]) with each {id, name} as its id. */
function publishedInspectors(value, where) {
  let items;
  if (Array.isArray(value)) items = value;
  else if (typeof value === "string") items = Array.from(value);
  else if (isObject(value)) items = Object.keys(value);
  else throw mismatch(`${where}：检查人员（inspectors）不是列表`);
  return items.map((item) => {
    if (!isObject(item)) return item;
    if (!has(item, "id")) throw mismatch(`${where}：有一名检查人员缺少 id`);
    return item.id;
  });
}

function parsePublishedTargets(record) {
  if (!has(record, "targets") || !Array.isArray(record.targets)) throw mismatch("公布的抽中单位（targets）缺失或无法读取");
  return record.targets.map((target, at) => {
    const where = `公布的第${at + 1}个抽中单位无法读取`;
    if (!isObject(target)) throw mismatch(`${where}：不是一个抽中单位`);
    for (const key of ["credit_code", "category", "selection", "on_site", "inspectors"]) {
      if (!has(target, key)) throw mismatch(`${where}：缺少 ${key}`);
    }
    return {
      credit_code: target.credit_code, category: target.category, selection: target.selection, on_site: pyTruthy(target.on_site),
      inspectors: publishedInspectors(target.inspectors, where),
    };
  });
}

// ------------------------------------------------------------------------------------------- the draw

async function selectTargets(seed, pool, params) {
  const byCategory = new Map(CATEGORIES.map((category) => [category, []]));
  for (const member of pool) {
    const members = byCategory.get(member.category);
    if (members) members.push(member);
  }
  const ordered = CATEGORIES.flatMap((category) => byCategory.get(category));
  const keys = await sha256HexAll(ordered.map((m) => `${seed}|${m.category}|${m.credit_code}`));
  const byKey = (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0); // Array.prototype.sort is stable
  const targets = [];
  const quotas = {};
  const poolSizes = {};
  let at = 0;
  for (const category of CATEGORIES) {
    const members = byCategory.get(category).map((member) => ({ member, key: keys[at++] }));
    const size = members.length;
    const n = quota(params.ratios[category], params.minimums[category], size);
    const full = members.filter((m) => m.member.full_coverage);
    const ranked = members.filter((m) => !m.member.full_coverage).sort(byKey);
    const chosen = [
      ...full.map((m) => ({ ...m, selection: "full_coverage" })),
      ...ranked.slice(0, Math.max(0, n - full.length)).map((m) => ({ ...m, selection: "random" })),
    ].sort(byKey);
    const onSite = !(category === "甲" && params.jiaNonSite);
    for (const { member, key, selection } of chosen) {
      targets.push({ credit_code: member.credit_code, category, selection, on_site: onSite, rank_key: key, inspectors: [] });
    }
    quotas[category] = chosen.length;
    poolSizes[category] = size;
  }
  return { targets, quotas, poolSizes };
}

function describeInspectorShortage(index, target, eligible, conflicted, perTask, rosterSize, others) {
  const conflicts = conflicted.length ? `（回避：${conflicted.join("、")}）` : "";
  const more = others > 0 ? `；另有 ${others} 个抽中单位同样配不齐` : "";
  return `无法按公布的检查人员名单重算：第${index + 1}个抽中单位 ${target.credit_code} 在名单的 ${rosterSize} 名检查人员中，`
    + `无回避冲突的只有 ${eligible} 名${conflicts}，每项任务需要 ${perTask} 名${more}`;
}

async function assignInspectors(seed, targets, roster, perTask) {
  if (perTask < MIN_INSPECTORS_PER_TASK) {
    throw mismatch(`无法重算：抽查计划的每项任务检查人员数为 ${perTask}，少于 ${MIN_INSPECTORS_PER_TASK} 名`);
  }
  const load = new Map(roster.map((inspector) => [inspector.id, 0]));
  let shortage = null;
  let others = 0;
  for (const [index, target] of targets.entries()) {
    const eligible = roster.filter((inspector) => !inspector.conflicts.has(target.credit_code));
    if (BigInt(eligible.length) < perTask) {
      if (shortage === null) {
        const conflicted = [...new Set(roster.filter((i) => i.conflicts.has(target.credit_code)).map((i) => i.id))].sort(compareCodePoints);
        shortage = [index, target, eligible.length, conflicted];
      } else {
        others += 1;
      }
      continue;
    }
    if (shortage !== null) continue; // the draw cannot be recomputed: only the shortages are counted now
    // Sorting by (load, key) and taking the first perTask is taking whole load levels, lowest first, each sorted by
    // key: only the levels reached need their keys (about half the roster when the loads are level).
    const byLoad = eligible.map((inspector) => ({ id: inspector.id, load: load.get(inspector.id) })).sort((a, b) => a.load - b.load);
    const wanted = Number(perTask);
    const chosen = [];
    for (let start = 0; chosen.length < wanted; ) {
      let end = start;
      while (end < byLoad.length && byLoad[end].load === byLoad[start].load) end += 1;
      const level = byLoad.slice(start, end);
      const keys = await sha256HexAll(level.map((inspector) => `${seed}|inspector|${target.credit_code}|${inspector.id}`));
      const ranked = level.map((inspector, at) => ({ id: inspector.id, key: keys[at] }));
      ranked.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      chosen.push(...ranked.slice(0, wanted - chosen.length).map((inspector) => inspector.id));
      start = end;
    }
    target.inspectors = chosen;
    for (const id of chosen) load.set(id, load.get(id) + 1);
  }
  if (shortage !== null) {
    throw mismatch(describeInspectorShortage(...shortage, perTask, roster.length, others));
  }
}

// ------------------------------------------------------------------------------------------- comparing

function sameValue(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, at) => item === b[at]);
  }
  return a === b;
}

function describeValue(field, value, names) {
  if (field === "selection" && typeof value === "string" && has(SELECTION_WORDS, value)) return SELECTION_WORDS[value];
  if (field === "on_site") return value ? "现场检查" : "非现场检查";
  if (field === "inspectors") {
    if (!value.length) return "（无）";
    return value.map((id) => (typeof id === "string" && names.get(id) ? `${names.get(id)}（${id}）` : show(id))).join("、");
  }
  return show(value);
}

function compareTargets(expected, published, roster) {
  const names = new Map(roster.map((inspector) => [inspector.id, inspector.name]));
  const fields = ["credit_code", "category", "selection", "on_site", "inspectors"];
  const common = Math.min(expected.length, published.length);
  for (let index = 0; index < common; index += 1) {
    const want = expected[index];
    const got = published[index];
    const field = fields.find((name) => !sameValue(want[name], got[name]));
    if (field === undefined) continue;
    const said = `公布为 ${describeValue(field, got[field], names)}，重算为 ${describeValue(field, want[field], names)}`;
    if (field === "credit_code") throw mismatch(`第${index + 1}个抽中单位不一致：${said}`);
    throw mismatch(`第${index + 1}个抽中单位（${show(got.credit_code)}）的${FIELD_WORDS[field]}不一致：${said}`);
  }
  if (expected.length !== published.length) {
    const which = published.length > expected.length
      ? `公布的第${common + 1}个抽中单位 ${show(published[common].credit_code)} 不在重算结果中`
      : `重算的第${common + 1}个抽中单位 ${expected[common].credit_code} 未公布`;
    throw mismatch(`抽中单位的数量不一致：公布 ${published.length} 个，重算 ${expected.length} 个；${which}`);
  }
}

// ------------------------------------------------------------------------------------------- verify

async function recompute(publication, recomputed) {
  if (!isObject(publication)) throw unsupported("这不是抽查公开文件（应为 JSON 对象）");
  const algorithm = publication.algorithm_version;
  if (algorithm !== ALGORITHM) {
    throw unsupported(`本页面的核验程序实现的是算法 ${ALGORITHM}，这次抽取使用的算法版本为 ${show(algorithm)}，无法在浏览器中核验`);
  }
  const plan = publication.plan;
  if (!isObject(plan)) throw mismatch("公开文件缺少抽查计划（plan）");
  const record = publication.draw;
  if (record === null || record === undefined) {
    const status = publication.status;
    if (status === "committed") {
      throw unsupported(`该计划尚未抽取：目前只公布了随机种子的承诺值 ${show(publication.commitment)}，抽取后公布种子、名录库和抽取结果，届时可以核验`);
    }
    if (status === "handed_down") throw unsupported("该计划已下发至各县，由各县的计划分别抽取，本身没有抽取结果；请核验各县计划的公开");
    throw mismatch(`公开文件的状态为“${has(STATUS_WORDS, status) ? STATUS_WORDS[status] : show(status)}”，却没有公布抽取结果（draw）`);
  }
  if (!isObject(record)) throw mismatch("公布的抽取结果（draw）无法读取");

  const seed = record.seed;
  const commitment = publication.commitment;
  if (typeof seed !== "string" || typeof commitment !== "string") throw mismatch("公开文件缺少随机种子（seed）或承诺值（commitment）");
  recomputed.commitment = await sha256Hex(seed);
  if (recomputed.commitment !== commitment) {
    throw mismatch(`随机种子与承诺值不符：公布的随机种子 ${seed} 的 SHA-256 为 ${recomputed.commitment}，`
      + `而计划创建时公布的承诺值为 ${commitment}`);
  }

  const pool = parsePool(record);
  for (let at = 0; at + 1 < pool.length; at += 1) {
    if (compareCodePoints(pool[at].credit_code, pool[at + 1].credit_code) > 0) {
      throw mismatch(`名录库未按统一社会信用代码排序：第${at + 1}项 ${pool[at].credit_code} 排在第${at + 2}项 ${pool[at + 1].credit_code} 之前`);
    }
  }
  recomputed.poolHash = await sha256Hex(canonicalPoolJson(pool));
  recomputed.poolSize = pool.length;
  if (recomputed.poolHash !== record.pool_hash) {
    throw mismatch(`名录库与公布的名录库哈希不符：按公布的名录库（${pool.length} 家单位）计算的 SHA-256 为 ${recomputed.poolHash}，`
      + `公布的 pool_hash 为 ${show(record.pool_hash)}；名录库或其哈希被改动过`);
  }

  const params = parseParameters(plan);
  const roster = parseRoster(record);
  const drawn = await selectTargets(seed, pool, params);
  recomputed.quotas = drawn.quotas;
  recomputed.poolSizes = drawn.poolSizes;
  recomputed.targets = drawn.targets;
  await assignInspectors(seed, drawn.targets, roster, params.perTask);
  const published = parsePublishedTargets(record);
  compareTargets(drawn.targets, published, roster);
}

/** Recompute the draw of a publication (GET /plans/{plan_id}/publication, as returned) in this browser. */
export async function verifyPublication(publication) {
  const recomputed = {};
  try {
    await recompute(publication, recomputed);
    return { result: "match", firstDifference: null, recomputed };
  } catch (error) {
    if (error instanceof Outcome) return { result: error.result, firstDifference: error.words, recomputed };
    throw error;
  }
}

/** The sentence to show the reader for an outcome of verifyPublication. */
export function describe(outcome) {
  if (!outcome) return "";
  if (outcome.result === "match") {
    const count = outcome.recomputed && outcome.recomputed.targets ? outcome.recomputed.targets.length : 0;
    return `核验通过：已在本浏览器中按公布的随机种子、名录库和检查人员名单重新计算（算法 ${ALGORITHM}），随机种子与事先公布的承诺值相符，`
      + `${count} 个抽中单位及其检查人员与公布的完全一致。`;
  }
  if (outcome.result === "mismatch") return `核验未通过：${outcome.firstDifference}。`;
  if (outcome.result === "unsupported") return `无法核验：${outcome.firstDifference}。`;
  return "";
}
