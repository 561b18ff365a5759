/* evidencenlp review page. Plain JavaScript, no dependencies, no network beyond this server.
 * Note text is only ever put into the page with textContent (never innerHTML). */
"use strict";

const S = {
  meta: null, vocab: null, assessmentId: null, filter: "all", order: "file",
  items: [], index: -1, note: null, draft: null, job: null,
  /* decisions clicked but not yet acknowledged by the server, oldest first (also kept in localStorage, so
   * a reload or a dropped connection loses none); `sending`: the outbox is being sent now */
  outbox: [], sending: false, outboxError: null,
  /* the note being opened (a click meanwhile is answered, never taken for another note) */
  opening: null,
  /* background refresh of the queue, counters and rating: one at a time, coalesced */
  refreshing: false, refreshWanted: false, progress: null,
};
const $ = (id) => document.getElementById(id);
const STOP = new Set(("that this with from have were when what they them their there been into than then also " +
  "will would could should about after before over under more most some such only very each every other " +
  "which while where here your ours ourselves people staff service services care").split(" "));

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;  // CSSOM: allowed by the page's CSP
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function api(path, body, raw) {
  const opts = { headers: {}, credentials: "same-origin" };
  if (raw !== undefined) {
    opts.method = "POST"; opts.body = raw; opts.headers["Content-Type"] = "application/octet-stream";
  } else if (body !== undefined) {
    opts.method = "POST"; opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {  // the server could not be reached: the caller decides whether to retry
    const err = new Error("the review server could not be reached");
    err.status = 0;
    throw err;
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    let detail = data && data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join("; ");
    const err = new Error(detail || `request failed (${res.status})`);
    err.status = res.status;
    throw err;
  }
  return data;
}

const pct = (x) => (x === null || x === undefined) ? "" : `${Math.round(x * 100)}%`;
const title = (kind, id) => {
  const found = (S.vocab[kind] || []).find((o) => o.id === id);
  return found ? found.title : (id || "");
};
/* the key question of a statement, from the vocabulary the server sends (never from the id's spelling) */
const kqOf = (statement) => {
  const found = (S.vocab.statements || []).find((o) => o.id === statement);
  return found ? found.key_question : null;
};
const REASONS = { no_content: "no content", not_english: "not English" };
const reasonText = (r) => REASONS[r] || String(r || "").replace(/_/g, " ");
const labelOf = (part) => (part && typeof part === "object" && part.label) ? part.label : null;
const EMPTY_DRAFT = () => ({ key_question: null, statement: null, evidence_category: null, band: null, principles: [] });
const complete = (d) => !!(d && d.statement && d.evidence_category && d.band);

function say(text, isError) {
  const m = $("message");
  m.textContent = text || "";
  m.classList.toggle("error", !!isError);
}

/* ---------- state in the address bar (so a reload comes back to the same note) ---------- */
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  return { a: p.get("a") ? Number(p.get("a")) : null, n: p.get("n") ? Number(p.get("n")) : null,
           f: p.get("f"), o: p.get("o") };
}
function writeHash() {
  const p = new URLSearchParams();
  if (S.assessmentId !== null) p.set("a", S.assessmentId);
  if (S.note) p.set("n", S.note.id);
  if (S.filter !== "all") p.set("f", S.filter);
  if (S.order !== "file") p.set("o", S.order);
  history.replaceState(null, "", "#" + p.toString());
}

/* ---------- loading ---------- */
async function loadMeta() {
  S.meta = await api("/api/meta");
  S.vocab = S.meta.vocabulary;
  const sel = $("assessment");
  sel.replaceChildren(...S.meta.assessments.map((a) =>
    el("option", { value: a.id, text: `${a.name}${a.location ? " · " + a.location : ""} (${a.progress.total})` })));
  sel.closest("label").hidden = S.meta.assessments.length === 0;
  $("import-path-label").hidden = !S.meta.path_import;
  const stored = localStorage.getItem("evidencenlp.inspector");
  if (!$("inspector").value) $("inspector").value = stored || S.meta.inspector || "";
  fillStatementSelect();
}

function fillStatementSelect() {
  const sel = $("statement-select");
  const groups = S.vocab.key_questions.map((kq) => el("optgroup", { label: kq.title },
    S.vocab.statements.filter((s) => s.key_question === kq.id).map((s) => el("option", { value: s.id, text: s.title }))));
  sel.replaceChildren(el("option", { value: "", text: "— choose —" }), ...groups);
}

async function loadQueue() {
  const q = new URLSearchParams({ filter: S.filter, order: S.order });
  if (S.assessmentId !== null) q.set("assessment_id", S.assessmentId);
  const data = await api("/api/queue?" + q.toString());
  S.items = data.items;
  overlayOutbox();
  if (S.note) {  // the queue may have moved around the note on screen: keep pointing at it
    const i = S.items.findIndex((x) => x.note_id === S.note.id);
    if (i >= 0) S.index = i;
  }
  renderProgress(data.progress);
  renderQueue();
}

async function loadSummary() {
  const q = S.assessmentId !== null ? "?assessment_id=" + S.assessmentId : "";
  const data = await api("/api/summary" + q);
  renderSummary(data.key_questions);
  renderProgress(data.progress);
}

async function loadAssessment() {
  if (S.assessmentId === null) { $("rating").replaceChildren(); return; }
  try {
    renderAssessment(await api("/api/assessment?assessment_id=" + S.assessmentId));
  } catch (err) {  // the rating is a help, never a reason for the page to stop
    $("rating").replaceChildren(el("p", { class: "muted small", text: `No indicative rating: ${err.message}` }));
  }
}

async function loadNote(id) {
  const token = {};
  S.opening = token;
  try {
    const note = await api(`/api/notes/${id}`);
    if (S.opening !== token) return;  // another note was chosen meanwhile: that one wins
    S.note = note;
    S.draft = draftFrom(note);
    $("rationale").value = "";
    renderNote();
    writeHash();
  } finally {
    if (S.opening === token) S.opening = null;
  }
}

/* the suggestion's labels, or null when the tool abstained (labels null) or stored none */
function suggestedLabels(note) {
  const s = note.suggestion;
  if (!s || !labelOf(s.statement)) return null;
  return { key_question: labelOf(s.key_question) || kqOf(labelOf(s.statement)), statement: labelOf(s.statement),
           evidence_category: labelOf(s.evidence_category), band: labelOf(s.band),
           principles: (s.principles || []).map(labelOf).filter(Boolean) };
}
function draftFrom(note) {
  const c = note.current;
  if ((note.status === "accepted" || note.status === "corrected") && c) {
    return { key_question: c.key_question, statement: c.statement, evidence_category: c.evidence_category,
             band: c.band, principles: c.principles.slice() };
  }
  return suggestedLabels(note) || EMPTY_DRAFT();  // an abstention: the inspector picks every label
}

/* ---------- rendering ---------- */
function renderProgress(p) {
  if (p) S.progress = p;
  p = S.progress;
  if (!p) return;
  const done = p.total ? p.confirmed / p.total : 0;
  $("progress-bar").style.width = `${Math.round(done * 100)}%`;
  const saving = S.outbox.length;
  $("progress-text").textContent = (p.total
    ? `${p.confirmed} of ${p.total} confirmed · ${p.skipped} skipped · ${p.pending} to do · ${p.needs_review} need review`
    : "no notes yet") + (saving ? ` · ${saving} saving…` : "");
  const box = $("outbox-status");
  if (box) {
    box.hidden = !S.outboxError;
    box.textContent = S.outboxError || "";
  }
}

/* where a note came from: file and row, then the file's own id, location and date columns */
function sourceLine(n) {
  const parts = [`${n.source_file} · row ${n.source_row}`];
  if (n.source_id) parts.push(`id ${n.source_id}`);
  if (n.location) parts.push(n.location);
  if (n.note_date) parts.push(n.note_date);
  return parts.join(" · ");
}

function badge(status) { return el("span", { class: `badge ${status}`, text: status }); }

function renderQueue() {
  const list = $("queue");
  const currentId = S.note ? S.note.id : null;
  list.replaceChildren(...S.items.map((item, i) => {
    const band = item.decided_band || item.suggested_band;
    const li = el("li", { "data-note": item.note_id, "data-status": item.status, class: item.note_id === currentId ? "current" : "",
                          title: sourceLine(item), onclick: () => selectIndex(i) },
      el("span", { class: "row", text: `#${item.source_row}` }),
      el("span", { class: "snippet", text: item.snippet }),
      el("span", { class: "meta" }, badge(item.status),
        band ? el("span", { class: `badge band-${band}`, text: title("bands", band) }) : null,
        item.needs_review ? el("span", { class: "flag", text: "needs review" }) : null));
    return li;
  }));
  const hasNotes = S.meta && S.meta.assessments.length > 0;
  $("empty").hidden = hasNotes && S.items.length > 0;
  $("note").hidden = !(hasNotes && S.items.length > 0 && S.note);
  if (hasNotes && S.items.length === 0) {
    $("empty").querySelector("h2").textContent = "No notes match this filter";
    $("empty").querySelector("p").textContent = "Choose “All” to see every note of this assessment.";
  }
}

function markShared(text, other) {
  const words = new Set((other.toLowerCase().match(/[a-z][a-z'-]{3,}/g) || [])
    .filter((w) => !STOP.has(w)).map((w) => w.replace(/s$/, "")));
  const out = [];
  let last = 0;
  for (const m of text.matchAll(/[A-Za-z][A-Za-z'-]{3,}/g)) {
    const w = m[0].toLowerCase().replace(/s$/, "");
    if (!words.has(w) || STOP.has(m[0].toLowerCase())) continue;
    out.push(document.createTextNode(text.slice(last, m.index)));
    out.push(el("mark", { class: "shared", text: m[0] }));
    last = m.index + m[0].length;
  }
  out.push(document.createTextNode(text.slice(last)));
  return out;
}

function renderNote() {
  const n = S.note;
  if (!n) { $("note").hidden = true; return; }
  $("note").hidden = false;
  $("empty").hidden = true;
  const s = n.suggestion || {};
  const pos = S.items.findIndex((i) => i.note_id === n.id);
  $("note-pos").textContent = pos >= 0 ? `Note ${pos + 1} of ${S.items.length}` : `Note ${n.id}`;
  $("note-source").textContent = sourceLine(n);
  const st = $("note-status");
  st.className = `badge ${n.status}`;
  st.textContent = n.status;
  $("note-flag").hidden = !n.needs_review;
  const why = (s.evidence || [])[0];
  $("note-text").replaceChildren(...(why ? markShared(n.text, why.text) : [document.createTextNode(n.text)]));
  if (why) {
    $("why-text").replaceChildren(...markShared(why.text, n.text));
    $("why-src").textContent = `${why.framework} · ${why.item}${why.band ? " · " + title("bands", why.band) : ""} · similarity ${why.similarity.toFixed(2)}${why.weak ? " (weak match)" : ""}`;
  } else if (s.reason) {
    $("why-text").textContent = `No suggestion (${reasonText(s.reason)}): the tool abstained on this note.`;
    $("why-src").textContent = "Choose the statement, band and evidence category yourself, or skip the note.";
  } else {
    $("why-text").textContent = "No framework sentence matched.";
    $("why-src").textContent = "";
  }
  renderChoices();
  const hist = n.history.slice().reverse();
  $("history-count").textContent = n.history.length;
  $("history").replaceChildren(...hist.map((d) => el("li", {},
    el("strong", { text: d.action }), ` by ${d.inspector}, ${d.decided_at.replace("T", " ").replace("Z", " UTC")}`,
    d.statement ? ` — ${title("statements", d.statement)}, ${title("bands", d.band)}, ${title("evidence_categories", d.evidence_category)}` : "",
    d.rationale ? el("div", { class: "muted", text: `“${d.rationale}”` }) : null)));
  $("undo").disabled = !n.current || (n.status === "pending");
  document.querySelectorAll("#queue li").forEach((li) => li.classList.toggle("current", Number(li.dataset.note) === n.id));
  const cur = document.querySelector("#queue li.current");
  if (cur) cur.scrollIntoView({ block: "nearest" });
}

function renderChoices() {
  const n = S.note, d = S.draft, s = n.suggestion || {};
  const sugg = suggestedLabels(n) || {};
  const none = sugg.statement ? null
    : (s.reason ? `no suggestion (${reasonText(s.reason)})` : "no suggestion stored");
  if (!d.statement) {
    $("statement-current").replaceChildren(
      el("span", { class: "abstained", text: none || "no statement chosen" }),
      el("span", { class: "muted small", text: " — choose a statement below, then a band and an evidence category" }));
  } else {
    const changed = d.statement !== sugg.statement;
    $("statement-current").replaceChildren(
      el("strong", { text: title("key_questions", d.key_question || kqOf(d.statement)) }), " · ",
      el("span", { class: changed ? "changed" : "", text: title("statements", d.statement) }),
      el("span", { class: "muted small", text: ` (${d.statement})` }),
      none ? el("span", { class: "muted small", text: ` — ${none}` }) :
        changed ? el("span", { class: "muted small", text: ` — suggested: ${title("statements", sugg.statement)}` }) :
          el("span", { class: "muted small", text: ` — confidence ${pct(s.statement && s.statement.score)}` }));
  }
  $("alternatives").replaceChildren(...(s.statement_top3 || []).map((alt) =>
    el("button", { type: "button", class: `choice${alt.label === d.statement ? " selected" : ""}${alt.label === sugg.statement ? " suggested" : ""}`,
                   "data-statement": alt.label, title: alt.label,
                   onclick: () => setDraft({ statement: alt.label, key_question: kqOf(alt.label) }) },
      title("statements", alt.label), el("span", { class: "score", text: pct(alt.score) }))));
  $("statement-select").value = "";
  const probs = (s.band && s.band.probabilities) || {};
  $("bands").replaceChildren(...S.vocab.bands.map((b, i) =>
    el("button", { type: "button", "data-band": b.id,
                   class: `choice band-${b.id}${b.id === d.band ? " selected" : ""}${b.id === sugg.band ? " suggested" : ""}`,
                   onclick: () => setDraft({ band: b.id }) },
      el("kbd", { text: String(i + 1) }), b.title, el("span", { class: "score", text: pct(probs[b.id]) }))));
  $("categories").replaceChildren(...S.vocab.evidence_categories.map((c) =>
    el("button", { type: "button", "data-category": c.id,
                   class: `choice${c.id === d.evidence_category ? " selected" : ""}${c.id === sugg.evidence_category ? " suggested" : ""}`,
                   onclick: () => setDraft({ evidence_category: c.id }) }, c.title)));
  const pscores = Object.fromEntries((s.principles || []).map((p) => [p.label, p.score]));
  $("principles-field").hidden = S.vocab.principles.length === 0;
  $("principles").replaceChildren(...S.vocab.principles.map((p) =>
    el("button", { type: "button", "data-principle": p.id, "aria-pressed": d.principles.includes(p.id) ? "true" : "false",
                   class: `choice${d.principles.includes(p.id) ? " selected" : ""}${p.id in pscores ? " suggested" : ""}`,
                   onclick: () => togglePrinciple(p.id) },
      p.title, p.id in pscores ? el("span", { class: "score", text: pct(pscores[p.id]) }) : null)));
}

function setDraft(changes) {
  if (!S.draft) S.draft = EMPTY_DRAFT();
  Object.assign(S.draft, changes);
  renderChoices();
}
function togglePrinciple(id) {
  if (!S.draft) return;
  const p = S.draft.principles;
  S.draft.principles = p.includes(id) ? p.filter((x) => x !== id) : p.concat([id]);
  renderChoices();
}

function renderSummary(kqs) {
  $("summary").replaceChildren(...kqs.map((k) => {
    const total = k.confirmed || 0;
    return el("div", { class: "kq", "data-kq": k.key_question },
      el("div", { class: "kq-head" }, el("span", { text: k.title }), el("span", { text: String(total) })),
      el("div", { class: "stack", title: S.vocab.bands.map((b) => `${b.title}: ${k.bands[b.id]}`).join(", ") },
        ...S.vocab.bands.filter((b) => k.bands[b.id]).map((b) =>
          el("span", { class: b.id, style: `width:${(100 * k.bands[b.id]) / total}%` }))),
      k.statements.length ? el("ul", {}, ...k.statements.map((s) => el("li", { text: `${s.title} (${s.n})` }))) : null);
  }));
}

/* the indicative rating per key question: rating, score, limiter, thin evidence, statements with and without
   evidence, principles evidenced (good or outstanding notes only), the notes behind it (links), and the overall
   rating with the reasons it is provisional. The same numbers as `evidencenlp assess --db` (one computation). */
function renderAssessment(a) {
  $("rating-label").textContent = a.label || "indicative, for the inspector's judgement";
  if (!a.available) { $("rating").replaceChildren(el("p", { class: "muted small", text: a.detail })); return; }
  const loc = a.location;
  if (!loc) { $("rating").replaceChildren(); return; }
  const names = (ids) => ids.map((x) => title("statements", x)).join(", ");
  const rows = S.vocab.key_questions.map((kq) => {
    const k = loc.key_questions[kq.id];
    if (!k) return null;
    const rated = k.rating ? title("bands", k.rating) + (k.thin ? " (thin evidence)" : "") : "no rating";
    const limiter = k.limited_by && !k.limited_by.from  /* the posterior decided: the share of its draws */
      ? el("div", { class: "limiter small", text: k.limited_by.description || "limiter" })
      : k.limited_by
      ? el("div", { class: "limiter small", text: `limited from ${title("bands", k.limited_by.from)} to ` +
          `${title("bands", k.limited_by.to)}: ${k.limited_by.description || "limiter"}` +
          (k.limited_by.statements && k.limited_by.statements.length ? ` (${names(k.limited_by.statements)})` : "") +
          (k.limited_by.serious_findings && k.limited_by.serious_findings.length
            ? "; serious findings count as the lowest score" : "") })
      : null;
    const links = (k.note_ids || []).map((id) => {
      const item = S.items.find((x) => x.note_id === id);
      return el("button", { type: "button", class: "note-link", "data-note": id,
                            title: item ? item.snippet : `note ${id}`,
                            onclick: () => openNote(id) }, item ? `#${item.source_row}` : `note ${id}`);
    });
    const withEvidence = k.statements_with_evidence || [];
    const without = k.statements_without_evidence || [];
    const principles = (k.principles || []).map((p) => p.title || p.principle);
    return el("div", { class: "kq-rating", "data-kq": kq.id, "data-rating": k.rating || "",
                       "data-thin": k.thin ? "true" : "false" },
      el("div", { class: "kq-head" }, el("span", { text: kq.title }),
        el("span", { class: `badge band-${k.rating || "none"}`, text: rated })),
      el("div", { class: "muted small", text: k.score !== null && k.score !== undefined
        ? `score ${k.score}% · ${withEvidence.length} statement(s) with evidence` + (k.basis ? ` · ${k.basis}` : "")
        : (k.no_rating_reason || "no usable evidence") }),
      limiter,
      withEvidence.length || without.length
        ? el("div", { class: "muted small statements", text: `with evidence: ${names(withEvidence) || "none"}` +
            (without.length ? ` · none yet: ${names(without)}` : "") })
        : null,
      principles.length
        ? el("div", { class: "muted small principles", text: `principles of outstanding care evidenced: ${principles.join(", ")}` })
        : null,
      links.length ? el("div", { class: "note-links" }, el("span", { class: "muted small", text: "notes: " }), ...links) : null);
  }).filter(Boolean);
  const o = loc.overall || {};
  const overall = o.rating
    ? el("div", { class: "overall small", "data-rating": o.rating, "data-provisional": o.provisional ? "true" : "false" },
        el("p", {}, "Overall: ", el("strong", { text: title("bands", o.rating) }), o.provisional ? " (provisional)" : ""),
        ...(o.provisional_reasons || []).map((r) => el("p", { class: "muted small", text: r })))
    : el("p", { class: "muted small", text: "No overall rating: no key question has usable evidence yet." });
  $("rating").replaceChildren(...rows, overall,
    el("p", { class: "muted small", text: `${loc.confirmed_notes} of ${loc.n_notes} notes confirmed; notes not ` +
      "yet decided count with their suggestion's confidence." }));
}

async function openNote(id) {
  let i = S.items.findIndex((x) => x.note_id === id);
  if (i < 0 && S.filter !== "all") { await setFilter("all"); i = S.items.findIndex((x) => x.note_id === id); }
  if (i >= 0) await selectIndex(i);
}

/* ---------- navigation ---------- */
function releaseFocus() {
  // after a click, give the keys back to the page (Enter = confirm, not "press that button again")
  const a = document.activeElement;
  if (a && a !== document.body && (a.tagName === "BUTTON" || a.tagName === "A")) a.blur();
}

async function selectIndex(i) {
  if (i < 0 || i >= S.items.length) return;
  S.index = i;
  await loadNote(S.items[i].note_id);
}

/* reload everything and open a note (after a filter, order or assessment change, or an import) */
async function refresh(preferId) {
  await loadQueue();
  let i = preferId !== undefined ? S.items.findIndex((x) => x.note_id === preferId) : -1;
  if (i < 0 && S.items.length) i = Math.min(Math.max(S.index, 0), S.items.length - 1);
  if (i >= 0) await selectIndex(i);
  else { S.note = null; renderNote(); renderQueue(); writeHash(); }
  scheduleRefresh();
}

/* the queue, the counters and the indicative rating, reloaded in the background without touching the note on
 * screen: never in the way of the next click. Requests made while one runs are merged into one more run. */
function scheduleRefresh() {
  S.refreshWanted = true;
  if (!S.refreshing) runRefresh();
}
async function runRefresh() {
  S.refreshing = true;
  try {
    while (S.refreshWanted) {
      S.refreshWanted = false;
      try {
        await loadQueue();
        await loadSummary();
        await loadAssessment();
      } catch (err) {
        if (err.status !== 0) say(err.message, true);
        break;  // the server is away: the outbox's retry brings the next refresh
      }
    }
  } finally {
    S.refreshing = false;
  }
}

function nextAfter(id) {
  const i = S.items.findIndex((x) => x.note_id === id);
  const later = S.items.slice(i + 1);
  const todo = later.find((x) => x.status === "pending") || later[0];
  return todo ? todo.note_id : undefined;
}

/* ---------- decisions ---------- */
function inspectorName() {
  const name = $("inspector").value.trim();
  if (!name) {
    say("Enter your name (Inspector, top right) first: it is recorded with every decision.", true);
    $("inspector").focus();
    return null;
  }
  localStorage.setItem("evidencenlp.inspector", name);
  return name;
}

/* Every click on Confirm, Skip or Undo is put in the outbox at once and the page moves on; the outbox sends the
 * decisions one by one, in click order. Each one is acknowledged by the server, or the page says that it
 * failed: a server that cannot be reached is retried (the decision stays in the outbox, also across a
 * reload), a refusal is shown with the note it was about. Nothing is dropped while the page is busy. */
const OUTBOX_KEY = () => `evidencenlp.outbox.${(S.meta && S.meta.store_key) || "default"}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sameLabels = (a, b) => !!a && !!b && a.statement === b.statement && a.band === b.band &&
  a.evidence_category === b.evidence_category &&
  JSON.stringify((a.principles || []).slice().sort()) === JSON.stringify((b.principles || []).slice().sort());

function saveOutbox() {
  try { localStorage.setItem(OUTBOX_KEY(), JSON.stringify(S.outbox)); } catch (e) { /* storage full: kept in memory */ }
}
function restoreOutbox() {
  try { S.outbox = JSON.parse(localStorage.getItem(OUTBOX_KEY()) || "[]"); } catch (e) { S.outbox = []; }
  if (!Array.isArray(S.outbox)) S.outbox = [];
}

/* the status a queued decision will give its note */
const LOCAL_STATUS = { confirm: "saving", skip: "saving", undo: "saving" };
function overlayOutbox() {
  for (const e of S.outbox) {
    const item = S.items.find((x) => x.note_id === e.note_id);
    if (item) item.status = LOCAL_STATUS[e.kind];
  }
}

function decide(kind) {
  if (!S.note) return;
  if (S.opening) {  // the next note is not on screen yet: say so rather than decide on the wrong one
    say("Still opening the next note: nothing was recorded. Press again when it shows.", true);
    return;
  }
  const inspector = inspectorName();
  if (!inspector) return;
  const n = S.note;
  const body = { inspector };
  const rationale = $("rationale").value.trim();
  if (rationale && kind !== "undo") body.rationale = rationale;
  if (kind === "confirm") {
    if (!complete(S.draft)) {
      say("Nothing to confirm yet: choose a statement, a band and an evidence category first.", true);
      return;
    }
    body.labels = { ...S.draft, key_question: S.draft.key_question || kqOf(S.draft.statement) };
  }
  if (kind === "undo" && !n.current && !S.outbox.some((e) => e.note_id === n.id)) {
    say("Nothing to undo on this note.", true);
    return;
  }
  // (when a decision on this note is still in the outbox, based_on is set when that one is acknowledged)
  S.outbox.push({ note_id: n.id, kind, body, based_on: n.current ? n.current.id : null,
                  where: `${n.source_file} row ${n.source_row}`, tries: 0 });
  saveOutbox();
  releaseFocus();
  overlayOutbox();
  renderQueue();
  renderProgress();
  say(`Note ${n.source_file} row ${n.source_row}: ${kind === "undo" ? "undo" : kind === "skip" ? "skip" : "decision"} saving…`);
  sendOutbox();
  if (kind === "undo") return;  // stay on the note: it is shown again once the undo is stored
  const next = nextAfter(n.id);
  if (next !== undefined && next !== n.id) selectIndex(S.items.findIndex((x) => x.note_id === next));
}

/* a decision the server stored although its answer never came back (the connection dropped) */
function alreadyStored(e, note) {
  const last = (note.history || [])[note.history.length - 1];
  if (!last || last.inspector !== e.body.inspector || (e.based_on !== null && last.id <= e.based_on)) return false;
  if (e.kind === "skip") return last.action === "skipped";
  if (e.kind === "undo") return last.action === "undone";
  return (last.action === "accepted" || last.action === "corrected") && sameLabels(last, e.body.labels);
}

function acknowledged(e, note) {
  S.outbox.shift();
  // the next decision clicked on the same note was clicked on top of this one: it follows this one's row
  const later = S.outbox.find((x) => x.note_id === e.note_id);
  if (later) later.based_on = note.current ? note.current.id : null;
  saveOutbox();
  const item = S.items.find((x) => x.note_id === e.note_id);
  if (item && !S.outbox.some((x) => x.note_id === e.note_id)) item.status = note.status;
  if (S.note && S.note.id === e.note_id && !S.opening) {  // the note on screen: show what is stored now
    S.note = note;
    if (e.kind === "undo" || !S.outbox.some((x) => x.note_id === e.note_id)) S.draft = draftFrom(note);
    renderNote();
  }
  const what = e.kind === "undo" ? `undone; now ${note.status}` : note.status;
  say(`Note ${e.where}: ${what}.`);
}

async function sendOutbox() {
  if (S.sending) return;
  S.sending = true;
  try {
    while (S.outbox.length) {
      const e = S.outbox[0];
      try {
        const note = await api(`/api/notes/${e.note_id}/${e.kind}`, { ...e.body, based_on: e.based_on });
        S.outboxError = null;
        acknowledged(e, note);
      } catch (err) {
        if (err.status === 0 || err.status >= 500) {  // not reached, or the server failed: keep it and retry
          e.tries += 1;
          saveOutbox();
          S.outboxError = `${S.outbox.length} decision(s) not saved yet (${err.message}); retrying — ` +
            "keep this page open.";
          renderProgress();
          await sleep(Math.min(15000, 500 * 2 ** Math.min(e.tries, 5)));
          continue;
        }
        let now = null;
        try { now = await api(`/api/notes/${e.note_id}`); } catch (e2) { now = null; }
        if (now && err.status === 409 && alreadyStored(e, now)) { S.outboxError = null; acknowledged(e, now); continue; }
        // refused (the note was decided elsewhere meanwhile, or the decision is not valid): say so, keep nothing hidden
        S.outbox.shift();
        saveOutbox();
        const item = S.items.find((x) => x.note_id === e.note_id);
        if (item && now && !S.outbox.some((x) => x.note_id === e.note_id)) item.status = now.status;
        S.outboxError = `Not saved — note ${e.where}: ${err.message}. Open it and decide again.`;
        say(S.outboxError, true);
        if (now && S.note && S.note.id === e.note_id) { S.note = now; S.draft = draftFrom(now); renderNote(); }
      }
      renderQueue();
      renderProgress();
      scheduleRefresh();
    }
  } finally {
    S.sending = false;
  }
}

/* ---------- import ---------- */
function openImport() {
  $("import-status").textContent = "";
  $("import-status").classList.remove("error");
  $("import-dialog").showModal();
}

async function runImport() {
  const status = $("import-status");
  status.classList.remove("error");
  const file = $("import-file").files[0];
  const path = $("import-path").value.trim();
  const opts = { text_column: $("import-column").value.trim() || "text", assessment: $("import-assessment").value.trim(),
                 location: $("import-location").value.trim(), service_type: $("import-service").value,
                 start_date: $("import-start").value, end_date: $("import-end").value,
                 id_column: $("import-id-column").value.trim(), location_column: $("import-location-column").value.trim(),
                 date_column: $("import-date-column").value.trim() };
  for (const k of Object.keys(opts)) if (!opts[k]) delete opts[k];
  let job;
  $("import-go").disabled = true;
  try {
    if (file) {
      status.textContent = `Uploading ${file.name} …`;
      job = await api("/api/upload?" + new URLSearchParams({ filename: file.name, ...opts }).toString(), undefined, file);
    } else if (path) {
      status.textContent = `Importing ${path} …`;
      job = await api("/api/import", { path, ...opts });
    } else {
      throw new Error("Choose a file (or type a path).");
    }
    S.job = job.id;
    $("import-stop").hidden = false;
    while (job.state === "running") {
      status.textContent = `Suggesting … ${job.rows_done}${job.rows_total ? " of " + job.rows_total : ""} rows`;
      await new Promise((r) => setTimeout(r, 400));
      job = await api(`/api/jobs/${job.id}`);
    }
    if (job.state === "failed") throw new Error(job.error);
    if (job.state === "cancelled") {
      status.textContent = `Import cancelled after ${job.rows_done} rows. The notes stored so far stay; ` +
        "load the same file again to finish it (nothing is imported twice).";
      await loadMeta();
      await refresh();
      return;
    }
    const sm = job.summary;
    status.textContent = `${sm.source_file}: ${sm.imported} new notes, ${sm.already} already imported, ${sm.blank} blank` +
      (sm.changed_rows.length ? `, ${sm.changed_rows.length} changed rows kept as first imported` : "") + ".";
    await loadMeta();
    S.assessmentId = sm.assessment_id;
    $("assessment").value = String(sm.assessment_id);
    updateExport();
    S.index = 0;
    S.note = null;
    await refresh();
    setTimeout(() => { if ($("import-dialog").open) $("import-dialog").close(); releaseFocus(); }, 600);
  } catch (err) {
    status.textContent = err.message;
    status.classList.add("error");
  } finally {
    S.job = null;
    $("import-stop").hidden = true;
    $("import-go").disabled = false;
  }
}

async function stopImport() {
  if (!S.job) return;
  $("import-stop").disabled = true;
  try {
    await fetch(`/api/jobs/${S.job}`, { method: "DELETE", credentials: "same-origin" });
    $("import-status").textContent = "Cancelling … (after the rows being suggested now)";
  } finally {
    $("import-stop").disabled = false;
  }
}

function updateExport() {
  const q = new URLSearchParams({ format: "csv" });
  if (S.assessmentId !== null) q.set("assessment_id", S.assessmentId);
  $("export-csv").href = "/api/export?" + q.toString();
}

/* ---------- keyboard ---------- */
function onKey(e) {
  if ($("import-dialog").open) return;
  const t = e.target;
  const typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  if (typing) {
    if (e.key === "Escape" || (e.key === "Enter" && t.id === "inspector")) { t.blur(); e.preventDefault(); }
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if ((e.key === "Enter" || e.key === " ") && t && (t.tagName === "BUTTON" || t.tagName === "A")) return;
  const k = e.key;
  if (["1", "2", "3", "4"].includes(k) && S.draft) { setDraft({ band: S.vocab.bands[Number(k) - 1].id }); }
  else if (k === "Enter") { decide("confirm"); }
  else if (k === "ArrowRight" || k === "ArrowDown" || k === "j") { selectIndex(S.index + 1); }
  else if (k === "ArrowLeft" || k === "ArrowUp" || k === "k") { selectIndex(S.index - 1); }
  else if (k === "s") { decide("skip"); }
  else if (k === "u") { decide("undo"); }
  else if (k === "n") { setFilter(S.filter === "needs_review" ? "all" : "needs_review"); }
  else return;
  e.preventDefault();
}

async function setFilter(f) {
  S.filter = f;
  document.querySelectorAll(".filters button").forEach((b) => b.classList.toggle("active", b.dataset.filter === f));
  await refresh(S.note ? S.note.id : undefined);
}

/* ---------- start ---------- */
async function start() {
  const h = readHash();
  if (h.f) S.filter = h.f;
  if (h.o) { S.order = h.o; $("order").value = h.o; }
  document.querySelectorAll(".filters button").forEach((b) => b.classList.toggle("active", b.dataset.filter === S.filter));
  await loadMeta();
  restoreOutbox();
  const ids = S.meta.assessments.map((a) => a.id);
  S.assessmentId = ids.includes(h.a) ? h.a : (ids.length ? ids[ids.length - 1] : null);
  if (S.assessmentId !== null) $("assessment").value = String(S.assessmentId);
  updateExport();
  await refresh(h.n !== null ? h.n : undefined);

  $("assessment").addEventListener("change", async (e) => {
    S.assessmentId = Number(e.target.value); S.index = 0; S.note = null; updateExport(); await refresh();
  });
  $("order").addEventListener("change", async (e) => { S.order = e.target.value; await refresh(S.note ? S.note.id : undefined); });
  document.querySelectorAll(".filters button").forEach((b) => b.addEventListener("click", () => setFilter(b.dataset.filter)));
  $("inspector").addEventListener("change", () => {
    localStorage.setItem("evidencenlp.inspector", $("inspector").value.trim());
    say("");
  });
  $("statement-select").addEventListener("change", (e) => {
    if (e.target.value) setDraft({ statement: e.target.value, key_question: kqOf(e.target.value) });
  });
  $("confirm").addEventListener("click", () => decide("confirm"));
  $("skip").addEventListener("click", () => decide("skip"));
  $("undo").addEventListener("click", () => decide("undo"));
  $("prev").addEventListener("click", () => { releaseFocus(); selectIndex(S.index - 1); });
  $("next").addEventListener("click", () => { releaseFocus(); selectIndex(S.index + 1); });
  $("open-import").addEventListener("click", openImport);
  $("empty-import").addEventListener("click", openImport);
  $("import-go").addEventListener("click", runImport);
  $("import-stop").addEventListener("click", stopImport);
  $("import-cancel").addEventListener("click", () => { $("import-dialog").close(); releaseFocus(); });
  document.addEventListener("keydown", onKey);
  window.addEventListener("beforeunload", (e) => {  // decisions not yet stored: ask before leaving
    if (S.outbox.length) { e.preventDefault(); e.returnValue = ""; }
  });
  document.body.dataset.ready = "true";
  if (S.outbox.length) {
    say(`${S.outbox.length} decision(s) from before the reload are being saved now.`);
    sendOutbox();
  }
}

start().catch((err) => {
  document.body.dataset.ready = "error";
  const m = $("message");
  if (m) { m.textContent = err.message; m.classList.add("error"); }
  $("empty").querySelector("p").textContent = `The page could not load: ${err.message}`;
});
