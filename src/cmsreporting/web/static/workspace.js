// A workspace: the merged form with autosave, a preview per convention, and submission.

import { ApiError, NetworkError, api, download, getAll } from "./api.js";
import { assignmentsPanel, showSectionStatus, watchPresence } from "./assign.js";
import { Saver } from "./autosave.js";
import { day, h, refLabel, replace, when } from "./dom.js";
import { formFilters } from "./filters.js";
import { buildModel, formSlotOf, holdReason, renderForm } from "./form.js";
import { LANGUAGES, getLang, t } from "./i18n.js";
import { citedSection } from "./picker.js";
import {
  announce,
  exportButtons,
  getTemplate,
  walkTemplate,
  issuesList,
  partyName,
  problemNode,
  reportTable,
  session,
  statusBadge,
} from "./shared.js";

const open = new Map(); // workspace id -> {workspace, saver, forms: Map(lang -> model)}

/** Forget the open workspaces (sign out); their unsaved edits stay in localStorage. */
export function closeWorkspaces() {
  for (const entry of open.values()) entry.saver.close();
  open.clear();
}

/** A visible note when a report's texts are not (all) in the chosen language. */
function languageNote(c) {
  const name = (code) => LANGUAGES[code] || code;
  const params = { report: refLabel(c.cycle), language: name(getLang()), fallback: name(c.fallback) };
  if (c.lang !== getLang()) return h("p", { class: "alert warn lang-note" }, t("form.lang_missing", params));
  if (c.translated < c.texts) return h("p", { class: "alert warn lang-note" }, t("form.lang_partial", { ...params, n: c.translated, total: c.texts }));
  return null;
}

async function formModel(entry, lang) {
  if (!entry.forms.has(lang)) {
    const form = await api.get(`workspaces/${entry.id}/form?lang=${encodeURIComponent(lang)}`);
    entry.forms.set(lang, buildModel(form));
  }
  entry.model = entry.forms.get(lang);
  return entry.model;
}

async function openWorkspace(id, lang) {
  let entry = open.get(id);
  if (entry) {
    await formModel(entry, lang);
    return entry;
  }
  entry = { id, forms: new Map(), model: null };
  const [workspace, answers] = await Promise.all([api.get(`workspaces/${id}`), api.get(`workspaces/${id}/answers`), formModel(entry, lang)]);
  entry.workspace = workspace;
  entry.partyName = await partyName(workspace.party);
  entry.saver = new Saver({
    workspaceId: id,
    user: session.me.name,
    check: (slot, value) => holdReason(entry.model, slot, value),
  });
  const restored = entry.saver.load(answers.answers, answers.as_of);
  entry.saver.addEventListener("remote", (event) => announce(t("form.remote", { n: event.detail.slots.length })));
  if (restored) announce(t("save.restored", { n: restored }));
  entry.saver.addEventListener("conflict", () => announce(t("conflict.announce")));
  entry.saver.addEventListener("adopted", (event) => announce(t("save.restored", { n: event.detail.slots.length })));
  open.set(id, entry);
  return entry;
}

function workspaceTitle(entry) {
  const { workspace } = entry;
  return workspace.title || `${entry.partyName} — ${workspace.cycles.map((c) => refLabel(c.cycle)).join(" + ")}`;
}

// --- the save indicator ----------------------------------------------------------------------

function saveIndicator(saver, goTo) {
  const dot = h("span", { class: "dot", "aria-hidden": "true" });
  const text = h("span");
  const extra = h("span", { class: "muted small" });
  const retry = h("button", { type: "button", class: "btn small", hidden: true, onclick: () => saver.retryNow() }, t("save.retry"));
  const show = h(
    "button",
    {
      type: "button",
      class: "btn small",
      hidden: true,
      onclick: () => {
        const slot = [...saver.conflicts.keys(), ...saver.invalid.keys(), ...saver.waitingSlots()][0];
        if (slot) goTo(slot);
      },
    },
    t("save.show"),
  );
  const el = h(
    "div",
    { class: "save-status" },
    h("p", {}, dot, h("span", { id: "save-status", role: "status", "aria-live": "polite" }, text)),
    extra,
    retry,
    show,
  );
  function render() {
    const n = saver.unsavedSlots().size;
    const waiting = saver.waitingSlots().size;
    const state = saver.state;
    let message;
    let kind;
    if (state === "signed-out") [message, kind] = [t("save.signedout", { n }), "offline"];
    else if (state === "offline") [message, kind] = [t("save.offline", { n }), "offline"];
    else if (state === "retrying") [message, kind] = [t("save.retrying", { n }), "offline"];
    else if (state === "saving") [message, kind] = [t("save.saving"), "busy"];
    else if (state === "waiting") [message, kind] = [t("save.waiting"), "busy"];
    else {
      const parts = [];
      if (saver.conflicts.size) parts.push(t("save.conflicts", { n: saver.conflicts.size }));
      if (saver.invalid.size) parts.push(t("save.invalid", { n: saver.invalid.size }));
      if (waiting) parts.push(t("save.held", { n: waiting }));
      if (parts.length) [message, kind] = [parts.join(" · "), "attention"];
      else [message, kind] = [t("save.saved"), "saved"];
    }
    if (text.textContent !== message) text.textContent = message;
    el.dataset.state = kind;
    retry.hidden = !["offline", "retrying"].includes(state);
    show.hidden = !(saver.conflicts.size || saver.invalid.size || waiting);
    tick();
  }
  function tick() {
    let note = "";
    if (saver.retryAt && ["offline", "retrying"].includes(saver.state)) {
      note = t("save.next", { s: Math.max(0, Math.ceil((saver.retryAt - Date.now()) / 1000)) });
    } else if (saver.lastSaved && saver.state === "saved") {
      note = t("save.at", { time: saver.lastSaved.toLocaleTimeString(getLang(), { hour: "2-digit", minute: "2-digit" }) });
    }
    if (extra.textContent !== note) extra.textContent = note;
  }
  const events = ["status", "saved", "conflict", "invalid", "resolved"];
  for (const type of events) saver.addEventListener(type, render);
  const timer = setInterval(tick, 1000);
  render();
  return {
    el,
    detach() {
      clearInterval(timer);
      for (const type of events) saver.removeEventListener(type, render);
    },
  };
}

// --- the page --------------------------------------------------------------------------------

/** A workspace page: tab is "form", "preview" (with a cycle) or "submit". */
export async function workspaceView(ctx, id, tab, cycleRef) {
  const lang = getLang();
  const entry = await openWorkspace(id, lang);
  const { workspace, saver, model } = entry;
  let formView = null;
  const goTo = (slot) => {
    if (formView) formView.focusSlot(slot);
    else location.hash = `#/w/${id}?q=${encodeURIComponent(slot)}`;
  };
  const indicator = saveIndicator(saver, goTo);
  const contributor = session.isContributorOnly(workspace.party);
  if (contributor && tab !== "form") {
    // a contributor works in the form only: previews and submission are the focal point's
    location.replace(`#/w/${id}`);
    return;
  }
  const tabs = [
    { href: `#/w/${id}`, label: t("ws.tab_form"), current: tab === "form" },
    ...(contributor ? [] : model.form.cycles).map((c) => ({
      href: `#/w/${id}/preview/${encodeURIComponent(c.cycle)}`,
      label: t("ws.tab_preview", { cycle: refLabel(c.cycle) }),
      current: tab === "preview" && cycleRef === c.cycle,
    })),
    contributor ? null : { href: `#/w/${id}/submit`, label: t("ws.tab_submit"), current: tab === "submit" },
  ].filter(Boolean);
  const header = h(
    "div",
    { class: "ws-head" },
    h(
      "div",
      { class: "ws-title" },
      h("p", { class: "crumbs" }, h("a", { href: "#/" }, t("nav.home")), " › ", t("ws.crumb", { id: workspace.id })),
      h("h1", {}, workspaceTitle(entry)),
    ),
    indicator.el,
    h(
      "nav",
      { class: "tabs", "aria-label": t("ws.sections") },
      h(
        "ul",
        {},
        tabs.map((x) => h("li", {}, h("a", { href: x.href, "aria-current": x.current ? "page" : null }, x.label))),
      ),
    ),
  );
  let body;
  let afterShow = () => {};
  let detachBody = () => {};
  if (tab === "form") {
    const toc = h("nav", { class: "toc", "aria-label": t("form.toc") });
    // on a narrow screen the sections fold into one line above the form, opened on demand
    const narrow = window.matchMedia("(max-width: 900px)").matches;
    const tocBox = h("details", { class: "toc-box", open: !narrow }, h("summary", {}, t("form.toc")), toc);
    if (narrow) {
      toc.addEventListener("click", (event) => {
        if (event.target.closest("a")) tocBox.open = false;
      });
    }
    const container = h("div", { class: "form-main" });
    const filters = formFilters(container, { otherTexts: () => otherLanguageTexts(model) });
    formView = renderForm(container, { model, saver, toc, party: workspace.party });
    const view = formView;
    // answers given elsewhere in the workspace that could answer a question: fetched now and
    // after each save (a failed fetch keeps the last ones; they are a help, not the answers)
    let offersTimer = null;
    const loadOffers = () =>
      api
        .get(`workspaces/${id}/suggestions`)
        .then((found) => view.setSuggestions(found.items))
        .catch(() => {});
    const onSaved = () => {
      clearTimeout(offersTimer);
      offersTimer = setTimeout(loadOffers, 300);
    };
    if (!contributor) {
      saver.addEventListener("saved", onSaved);
      loadOffers();
    }
    const panel = assignmentsPanel(entry, {
      onStatus: (bySection) => showSectionStatus(container, bySection, contributor ? model : null),
    });
    const presence = watchPresence(entry, container, saver);
    detachBody = () => {
      clearTimeout(offersTimer);
      saver.removeEventListener("saved", onSaved);
      presence.detach();
      view.detach();
    };
    body = h(
      "div",
      { class: "ws-layout" },
      tocBox,
      h(
        "div",
        { class: "form-col" },
        h(
          "div",
          { class: "intro" },
          h("p", {}, t("form.intro")),
          h(
            "ul",
            { class: "plain cycles-line" },
            model.form.cycles.map((c) => h("li", {}, h("strong", {}, refLabel(c.cycle)), ` ${c.title} — v${c.version}, `, t("due", { date: day(c.due_on) }))),
          ),
          ...model.form.cycles.map(languageNote).filter(Boolean),
        ),
        panel.root,
        filters.root,
        container,
      ),
    );
    const review = contributor ? null : await api.get(`workspaces/${id}/review`).catch(() => null);
    const remarks = review ? reviewRemarks(entry, review) : null;
    if (remarks) body.querySelector(".form-col").prepend(remarks.banners);
    const focus = ctx.query.get("q");
    afterShow = () => {
      if (remarks) remarks.attach(container);
      filters.apply();
      if (!focus) return;
      if (!formView.focusSlot(focus)) announce(t("form.not_shown"));
      // done: a reload or a language switch keeps the reader where they are
      history.replaceState(null, "", `#/w/${id}`);
    };
  } else if (tab === "preview") {
    body = await previewTab(ctx, entry, cycleRef);
  } else {
    body = await submitTab(ctx, entry);
  }
  const title = `${workspaceTitle(entry)} — ${tabs.find((x) => x.current)?.label || ""}`;
  if (!ctx.show(h("div", { class: "workspace" }, header, body), { title, focus: !ctx.query.get("q") })) {
    indicator.detach();
    detachBody();
    return;
  }
  afterShow();
  ctx.onLeave(() => {
    indicator.detach();
    detachBody();
  });
}

/**
 * Where each cycle stands with its secretariat, above the form: returned (with the reason and
 * links to the questions commented), submitted or accepted, past due; and each comment on a
 * question beside that question in the form.
 */
function reviewRemarks(entry, review) {
  const banners = h("div", { class: "review-banners" });
  const byQuestion = new Map();
  for (const c of review.cycles) {
    const latest = c.versions[c.versions.length - 1];
    const label = refLabel(c.cycle);
    const link = issueLink(entry, c.cycle);
    if (c.past_due) banners.append(h("p", { class: "alert error" }, t("review.past_due", { cycle: label, date: day(c.due_on) })));
    if (!latest) continue;
    const onThis = c.comments.filter((x) => x.version === latest.version);
    if (latest.status === "returned") {
      const reason = [...onThis].reverse().find((x) => x.kind === "return");
      const asked = [...new Set(onThis.filter((x) => x.question).map((x) => x.question))];
      banners.append(
        h(
          "div",
          { class: "alert warn", role: "status" },
          h("p", { class: "alert-title" }, t("review.returned", { cycle: label, v: latest.version, date: day(latest.decided_at.slice(0, 10)) })),
          reason ? h("p", {}, h("q", {}, reason.body), " — ", reason.author.replace(/^user:/, "")) : null,
          asked.length
            ? h(
                "p",
                {},
                t("review.asked"),
                " ",
                asked.map((qid, i) => {
                  const href = link(qid);
                  return [i ? ", " : "", href ? h("a", { href }, qid) : qid];
                }),
              )
            : null,
          h("p", {}, h("a", { href: `#/s/${latest.id}` }, t("review.thread", { v: latest.version }))),
        ),
      );
    } else {
      const key = latest.status === "accepted" ? "review.accepted" : "review.submitted";
      const date = day((latest.status === "accepted" ? latest.decided_at : latest.submitted_at).slice(0, 10));
      banners.append(
        h("p", { class: `alert ${latest.status === "accepted" ? "ok" : "note"}` }, t(key, { cycle: label, v: latest.version, date }), " ", h("a", { href: `#/s/${latest.id}` }, t("review.open"))),
      );
    }
    for (const x of c.comments) {
      if (!x.question) continue;
      const slot = formSlotOf(entry.model, c.cycle, x.question);
      if (!slot) continue;
      if (!byQuestion.has(slot)) byQuestion.set(slot, []);
      byQuestion.get(slot).push({ ...x, cycle: c.cycle });
    }
  }
  const attach = (container) => {
    for (const [slot, comments] of byQuestion) {
      const wrap = container.querySelector(`.field-wrap[data-slot="${CSS.escape(slot)}"]`);
      if (!wrap || wrap.querySelector(".q-remarks")) continue;
      wrap.append(
        h(
          "aside",
          { class: "q-remarks", "aria-label": t("review.remarks") },
          comments.map((x) =>
            h(
              "p",
              { class: `comment kind-${x.kind}` },
              h("span", { class: "comment-meta" }, `${x.author.replace(/^user:/, "")}, ${refLabel(x.cycle)} v${x.version}: `),
              x.body,
            ),
          ),
        ),
      );
    }
  };
  return banners.childNodes.length || byQuestion.size ? { banners, attach } : null;
}

/** slot -> the question's texts in the other languages of its template (for the search). */
async function otherLanguageTexts(model) {
  const found = new Map();
  const current = getLang();
  for (const c of model.form.cycles) {
    const template = await getTemplate(c.template_id, current);
    for (const lang of (template.languages || []).filter((x) => x !== current)) {
      const other = await getTemplate(c.template_id, lang);
      for (const { question } of walkTemplate(other)) {
        const slot = `${c.cycle}:${question.id}`;
        found.set(slot, `${found.get(slot) || ""} ${question.text || ""}`);
      }
    }
  }
  return found;
}

function unsavedNote(saver) {
  const n = saver.unsavedSlots().size;
  if (!n) return null;
  return h("p", { class: "alert warn" }, t("preview.unsaved", { n }));
}

function issueLink(entry, cycle) {
  return (qid) => {
    const slot = formSlotOf(entry.model, cycle, qid);
    return slot ? `#/w/${entry.id}?q=${encodeURIComponent(slot)}` : null;
  };
}

async function previewTab(ctx, entry, cycleRef) {
  const formCycle = entry.model.form.cycles.find((c) => c.cycle === cycleRef);
  if (!formCycle) return h("p", { class: "alert error" }, t("preview.unknown", { cycle: cycleRef }));
  await entry.saver.settle();
  const [preview, template, review] = await Promise.all([
    api.get(`workspaces/${entry.id}/preview/${encodeURIComponent(cycleRef)}`),
    getTemplate(formCycle.template_id, getLang()),
    api.get(`workspaces/${entry.id}/review`).catch(() => null),
  ]);
  const comments = review?.cycles.find((c) => c.cycle === cycleRef)?.comments || [];
  const errors = preview.issues.filter((i) => i.severity === "error");
  const warnings = preview.issues.filter((i) => i.severity === "warning");
  const linkFor = issueLink(entry, cycleRef);
  const direct = new Set(preview.needs_direct_answer);
  const link = (qid) => {
    if (direct.has(qid)) {
      const native = entry.model.questions.get(cycleRef)?.get(qid);
      if (native) return `#/w/${entry.id}?q=${encodeURIComponent(native.slot)}`;
    }
    return linkFor(qid);
  };
  return h(
    "section",
    { class: "preview", "aria-labelledby": "preview-h" },
    h(
      "div",
      { class: "block-head" },
      h("h2", { id: "preview-h" }, t("preview.heading", { cycle: refLabel(cycleRef) })),
      !preview.submittable
        ? h("span", { class: "badge sev-error big" }, t("preview.blocked", { n: errors.length }))
        : isEmpty(preview)
          ? h("span", { class: "badge sev-warning big" }, t("preview.empty"))
          : h("span", { class: "badge ok big" }, t("preview.ready")),
      h(
        "button",
        {
          type: "button",
          class: "btn small",
          "aria-label": t("preview.pdf_label", { cycle: refLabel(cycleRef) }),
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            try {
              await download(
                `/api/v1/workspaces/${entry.id}/preview/${encodeURIComponent(cycleRef)}/export?format=pdf&lang=${encodeURIComponent(getLang())}`,
              );
            } catch (error) {
              button.after(h("span", { class: "q-msg error", role: "alert" }, error.message || t("error.title")));
            } finally {
              button.disabled = false;
            }
          },
        },
        t("preview.pdf"),
      ),
    ),
    h("p", { class: "muted" }, template.title, ` — ${t("version")} ${preview.template_version}`),
    h("p", {}, t("preview.intro", { convention: refLabel(cycleRef).split(" ")[0] })),
    unsavedNote(entry.saver),
    preview.issues.length
      ? h(
          "section",
          { class: "block", "aria-labelledby": "issues-h" },
          h("h3", { id: "issues-h" }, t("preview.issues", { errors: errors.length, warnings: warnings.length })),
          issuesList(template, preview.issues, { linkFor: link }),
        )
      : h("p", { class: "alert ok" }, t("preview.noissues")),
    h("section", { class: "block", "aria-labelledby": "values-h" }, h("h3", { id: "values-h" }, t("preview.values")), reportTable(template, preview, { linkFor: link, level: 4, comments })),
    citedSection(preview.documents || [], 3),
  );
}

/** A report with no value at all: submittable (errors alone block), but worth a warning. */
function isEmpty(preview) {
  return Object.keys(preview.values || {}).length === 0;
}

// --- submission ------------------------------------------------------------------------------

function randomKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return "ui-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function submitTab(ctx, entry) {
  const { workspace, saver, model } = entry;
  await saver.settle();
  const cycles = model.form.cycles;
  const [previews, submissions] = await Promise.all([
    Promise.all(cycles.map((c) => api.get(`workspaces/${entry.id}/preview/${encodeURIComponent(c.cycle)}`).catch((e) => e))),
    getAll(`submissions?party=${workspace.party}`),
  ]);
  const refs = new Set(cycles.map((c) => c.cycle));
  const mine = submissions.filter((s) => refs.has(s.cycle)).sort((a, b) => a.cycle.localeCompare(b.cycle) || b.version - a.version);
  const latest = new Map();
  for (const s of mine) if (!latest.has(s.cycle)) latest.set(s.cycle, s);

  const result = h("div", { "aria-live": "polite" });
  const choices = cycles.map((c, i) => {
    const preview = previews[i];
    const last = latest.get(c.cycle);
    const convention = c.cycle.split(":")[0];
    const id = `submit-${c.cycle.replace(/[^A-Za-z0-9]/g, "_")}`;
    let reason = null;
    let state;
    if (!session.canSubmit(workspace.party, convention)) reason = t("submit.not_yours", { convention });
    else if (last && last.status !== "returned") reason = t(`submit.already_${last.status}`, { v: last.version });
    else if (preview instanceof Error) reason = preview.message;
    else if (!preview.submittable) {
      const n = preview.issues.filter((x) => x.severity === "error").length;
      reason = t("submit.blocked", { n });
    }
    const empty = !reason && isEmpty(preview);
    if (!reason) state = empty ? t("submit.empty") : last ? t("submit.amend", { v: last.version + 1 }) : t("submit.ready");
    const input = h("input", { type: "checkbox", id, value: c.cycle, name: "submit-cycles", disabled: Boolean(reason), "aria-describedby": `${id}-d` });
    return h(
      "div",
      { class: "option cycle-option" },
      input,
      h("label", { for: id }, h("strong", {}, refLabel(c.cycle)), ` — ${c.title}`),
      h(
        "span",
        { id: `${id}-d`, class: reason || empty ? "small warn-text" : "small ok-text" },
        " ",
        reason || state,
        reason && !(preview instanceof Error) && preview && !preview.submittable
          ? [" ", h("a", { href: `#/w/${entry.id}/preview/${encodeURIComponent(c.cycle)}` }, t("submit.see_issues"))]
          : null,
      ),
    );
  });
  const confirmBox = h("div", { class: "confirm", hidden: true });
  const submitButton = h(
    "button",
    {
      type: "submit",
      class: "btn primary",
    },
    t("submit.button"),
  );
  const formEl = h(
    "form",
    {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        replace(result);
        const chosen = [...formEl.querySelectorAll("input[name=submit-cycles]:checked")].map((x) => x.value);
        if (!chosen.length) {
          replace(result, h("p", { class: "alert error" }, t("submit.choose")));
          return;
        }
        if (saver.unsavedSlots().size) {
          replace(result, h("p", { class: "alert error" }, t("submit.unsaved", { n: saver.unsavedSlots().size })));
          return;
        }
        const cancel = h(
          "button",
          {
            type: "button",
            class: "btn",
            onclick: () => {
              confirmBox.hidden = true;
              submitButton.hidden = false;
              submitButton.focus();
            },
          },
          t("cancel"),
        );
        const go = h("button", { type: "button", class: "btn primary", onclick: () => send(chosen, go) }, t("submit.confirm"));
        replace(
          confirmBox,
          h("p", { class: "confirm-title", id: "confirm-t" }, t("submit.about", { list: chosen.map(refLabel).join(", ") })),
          h("p", {}, t("submit.final")),
          h("p", {}, go, " ", cancel),
        );
        confirmBox.hidden = false;
        submitButton.hidden = true;
        go.focus();
      },
    },
    h("fieldset", { class: "field" }, h("legend", {}, t("submit.which")), choices),
    h("p", {}, submitButton),
    confirmBox,
    result,
  );

  async function send(chosen, button) {
    const storeKey = `cmsr.submit:${entry.id}:${[...chosen].sort().join(",")}`;
    const key = sessionStorage.getItem(storeKey) || randomKey();
    sessionStorage.setItem(storeKey, key);
    button.disabled = true;
    try {
      await saver.settle();
      const response = await api.post(`workspaces/${entry.id}/submit`, { cycles: chosen }, { headers: { "Idempotency-Key": key } });
      sessionStorage.removeItem(storeKey);
      const done = response.submissions.map((s) => `${refLabel(s.cycle)} v${s.version}`).join(", ");
      announce(t("submit.done", { list: done }));
      sessionStorage.setItem("cmsr.flash", t("submit.done", { list: done }));
      // show the submissions as they now stand
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      if (!(error instanceof NetworkError)) sessionStorage.removeItem(storeKey);
      confirmBox.hidden = true;
      submitButton.hidden = false;
      if (error instanceof NetworkError) {
        replace(result, h("div", { class: "alert error", role: "alert" }, h("p", {}, t("submit.network"))));
      } else if (error instanceof ApiError && error.problem.issues) {
        const blocks = Object.entries(error.problem.issues);
        const nodes = [];
        for (const [cycle, issues] of blocks) {
          const formCycle = cycles.find((c) => c.cycle === cycle);
          const template = await getTemplate(formCycle.template_id, getLang());
          nodes.push(h("h3", {}, refLabel(cycle)), issuesList(template, issues, { linkFor: issueLink(entry, cycle) }));
        }
        replace(result, h("div", { class: "alert error", role: "alert" }, h("p", { class: "alert-title" }, error.message), nodes));
      } else {
        replace(result, problemNode(error, { intro: t("submit.failed") }));
      }
    } finally {
      button.disabled = false;
    }
  }

  const flash = sessionStorage.getItem("cmsr.flash");
  sessionStorage.removeItem("cmsr.flash");
  const errorBox = h("div", { "aria-live": "polite" });
  return h(
    "div",
    { class: "submit-page" },
    flash ? h("p", { class: "alert ok", role: "status" }, flash) : null,
    h("section", { class: "block", "aria-labelledby": "submit-h" }, h("h2", { id: "submit-h" }, t("submit.heading")), h("p", {}, t("submit.intro")), unsavedNote(saver), formEl),
    h(
      "section",
      { class: "block", "aria-labelledby": "subs-h" },
      h("h2", { id: "subs-h" }, t("subs.heading")),
      errorBox,
      mine.length ? submissionsTable(mine, (error) => replace(errorBox, problemNode(error))) : h("p", { class: "empty" }, t("subs.none")),
    ),
  );
}

/** A table of submissions with their status, comments and exports. */
export function submissionsTable(submissions, onError) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [t("col.report"), t("col.version"), t("col.status"), t("col.submitted"), t("col.decided"), t("col.exports")].map((x) => h("th", { scope: "col" }, x)),
        ),
      ),
      h(
        "tbody",
        {},
        submissions.map((s) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, h("a", { href: `#/s/${s.id}` }, refLabel(s.cycle), h("span", { class: "sr-only" }, ` v${s.version}`))),
            h("td", {}, `v${s.version}`),
            h("td", {}, statusBadge(s.status)),
            h("td", {}, when(s.submitted_at), h("br"), h("span", { class: "muted small" }, (s.submitted_by || "").replace(/^user:/, ""))),
            h("td", {}, s.decided_at ? [when(s.decided_at), h("br"), h("span", { class: "muted small" }, (s.decided_by || "").replace(/^user:/, ""))] : "—"),
            h("td", {}, exportButtons(s, getLang(), { onError })),
          ),
        ),
      ),
    ),
  );
}
