// Contributors and section assignments of a workspace: the focal point invites contributors,
// gives them sections and follows each section's status (not started, in progress, ready for
// review, done); a contributor sees their own sections and marks them ready for review.
// Presence: who else is in the form now, by section, and a warning before typing in a
// question someone else is at. A heartbeat every 20 s while the tab is shown (and a second
// after the place in focus changes); the answers poll brings presence too.

import { api } from "./api.js";
import { h, refLabel, replace } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { announce, problemNode, session } from "./shared.js";

const BEAT_MS = 20000;
const MOVE_MS = 1000;

function partLabel(part) {
  return part.key === "shared" ? t("asg.shared") : `${refLabel(part.cycle)} — ${part.title}`;
}

function statusBadgeOf(status) {
  return h("span", { class: `badge status-${status}`, dataset: { status } }, t(`asg.status_${status}`));
}

function personName(a) {
  return a.contributor_display_name || a.contributor;
}

/** Where each slot's item is assigned from: slot -> section key (`shared` or CONV:CYCLE:SEC). */
export function sectionsBySlot(model) {
  const found = new Map();
  for (const item of model.form.items) {
    found.set(item.slot, item.section);
    for (const feed of item.feeds || []) found.set(feed.slot, item.section);
  }
  return found;
}

/**
 * The assignments panel of a workspace. `onStatus(bySection)` is told each section's
 * assignment whenever they are read.
 */
export function assignmentsPanel(entry, { onStatus = () => {} } = {}) {
  const { workspace, model } = entry;
  const focal = session.isFocalOf(workspace.party);
  const headingId = "asg-heading";
  const body = h("div");
  const note = h("div", { "aria-live": "polite" });
  const root = h(
    "details",
    { class: "card assignments", id: "assignments", open: true },
    h("summary", { id: headingId }, focal ? t("asg.heading") : t("asg.mine")),
    note,
    body,
  );

  const fail = (error) => replace(note, problemNode(error));

  async function act(promise, message) {
    replace(note);
    try {
      await promise;
      if (message) announce(message);
      await load();
    } catch (error) {
      fail(error);
    }
  }

  function actions(a) {
    const path = `workspaces/${entry.id}/assignments/${a.id}`;
    const button = (label, onclick, cls = "btn small") => h("button", { type: "button", class: cls, onclick }, label);
    const section = partLabel(model.form.sections.find((p) => p.key === a.section) || { key: a.section, cycle: a.section, title: "" });
    if (!focal) {
      if (a.status === "not_started" || a.status === "in_progress") {
        return button(t("asg.mark_ready"), () => act(api.patch(path, { status: "ready" }), t("asg.marked_ready", { section })), "btn small primary");
      }
      return h("span", { class: "muted small" }, a.status === "ready" ? t("asg.waiting") : t("asg.closed"));
    }
    return [
      a.status !== "done" ? button(t("asg.mark_done"), () => act(api.patch(path, { status: "done" }), t("asg.marked_done", { section }))) : null,
      a.status === "ready" || a.status === "done" ? button(t("asg.reopen"), () => act(api.patch(path, { status: "in_progress" }), t("asg.reopened", { section }))) : null,
      button(t("asg.remove"), () => act(api.delete(path), t("asg.removed", { section })), "btn small quiet"),
    ];
  }

  function assignControl(part, people) {
    if (!people.length) return h("span", { class: "muted small" }, t("asg.nobody_yet"));
    const id = `asg-${part.key.replace(/[^A-Za-z0-9]/g, "_")}`;
    const select = h(
      "select",
      { id, "aria-label": t("asg.who_for", { section: partLabel(part) }) },
      h("option", { value: "" }, t("choose")),
      people.map((p) => h("option", { value: p.name }, p.display_name ? `${p.display_name} (${p.name})` : p.name)),
    );
    const go = h(
      "button",
      {
        type: "button",
        class: "btn small",
        onclick: () => {
          if (!select.value) {
            select.focus();
            return;
          }
          act(api.post(`workspaces/${entry.id}/assignments`, { section: part.key, contributor: select.value }), t("asg.assigned", { section: partLabel(part) }));
        },
      },
      t("asg.assign"),
    );
    return h("span", { class: "asg-pick" }, select, " ", go);
  }

  function peopleList(people) {
    if (!people.length) return null;
    return h(
      "div",
      { class: "asg-people" },
      h("h3", {}, t("asg.people")),
      h(
        "ul",
        { class: "plain" },
        people.map((p) =>
          h(
            "li",
            { dataset: { contributor: p.name } },
            p.display_name ? `${p.display_name} (${p.name})` : p.name,
            p.email ? h("span", { class: "muted small" }, ` · ${p.email}`) : null,
            " ",
            h(
              "button",
              {
                type: "button",
                class: "btn small quiet",
                "aria-label": t("asg.remove_person_named", { name: p.name }),
                onclick: () => act(api.delete(`workspaces/${entry.id}/contributors/${encodeURIComponent(p.name)}`), t("asg.person_removed", { name: p.name })),
              },
              t("asg.remove_person"),
            ),
          ),
        ),
      ),
    );
  }

  function inviteForm() {
    const input = h("input", { type: "email", id: "asg-invite-email", autocomplete: "off", required: true });
    const form = h(
      "form",
      {
        class: "asg-invite",
        onsubmit: (event) => {
          event.preventDefault();
          const email = input.value.trim();
          if (!email) return;
          act(
            api.post("invitations", { email, role: "contributor", party: workspace.party, language: getLang() }).then(() => {
              input.value = "";
            }),
            t("asg.invited", { email }),
          );
        },
      },
      h("label", { for: "asg-invite-email" }, t("asg.invite_label")),
      " ",
      input,
      " ",
      h("button", { type: "submit", class: "btn small" }, t("asg.invite")),
    );
    return form;
  }

  async function load() {
    const [assigned, people] = await Promise.all([
      api.get(`workspaces/${entry.id}/assignments`),
      focal ? api.get(`workspaces/${entry.id}/contributors`) : Promise.resolve([]),
    ]);
    const bySection = new Map(assigned.map((a) => [a.section, a]));
    onStatus(bySection);
    const parts = focal ? model.form.sections : model.form.sections.filter((p) => bySection.has(p.key));
    if (!parts.length) {
      replace(body, h("p", { class: "empty" }, t("asg.none_mine")), focal ? [peopleList(people), inviteForm()] : null);
      return;
    }
    const head = focal ? [t("asg.col_section"), t("asg.col_contributor"), t("asg.col_status"), t("col.actions")] : [t("asg.col_section"), t("asg.col_status"), t("col.actions")];
    replace(
      body,
      h(
        "div",
        { class: "table-scroll" },
        h(
          "table",
          { class: "data" },
          h("thead", {}, h("tr", {}, head.map((x) => h("th", { scope: "col" }, x)))),
          h(
            "tbody",
            {},
            parts.map((part) => {
              const a = bySection.get(part.key);
              return h(
                "tr",
                { dataset: { section: part.key } },
                h("th", { scope: "row" }, partLabel(part)),
                focal ? h("td", {}, a ? personName(a) : assignControl(part, people)) : null,
                h("td", { class: "asg-status" }, a ? statusBadgeOf(a.status) : h("span", { class: "muted small" }, t("asg.unassigned"))),
                h("td", {}, a ? actions(a) : null),
              );
            }),
          ),
        ),
      ),
      focal ? [peopleList(people), inviteForm()] : null,
    );
  }

  load().catch(fail);
  return { root, reload: () => load().catch(fail) };
}

/**
 * Each form section's status badge (from the assignments) beside its heading; for a
 * contributor (`model` given), the questions of a part marked ready or done are read-only until
 * the focal point reopens it.
 */
export function showSectionStatus(container, bySection, model = null) {
  if (model) {
    const bySlot = sectionsBySlot(model);
    for (const wrap of container.querySelectorAll(".field-wrap[data-slot]")) {
      const a = bySection.get(bySlot.get(wrap.dataset.slot));
      const closed = Boolean(a && (a.status === "ready" || a.status === "done"));
      for (const control of wrap.querySelectorAll("input, select, textarea, button")) {
        if (closed && !control.disabled) {
          control.disabled = true;
          control.dataset.closedBy = "assignment";
        } else if (!closed && control.dataset.closedBy === "assignment") {
          control.disabled = false;
          delete control.dataset.closedBy;
        }
      }
    }
  }
  for (const section of container.querySelectorAll("section.form-section[data-part]")) {
    const a = bySection.get(section.dataset.part);
    let badge = section.querySelector(":scope > h2 .sec-status");
    if (!a) {
      if (badge) badge.remove();
      continue;
    }
    const next = h("span", { class: "sec-status" }, " ", statusBadgeOf(a.status), h("span", { class: "muted small" }, ` ${personName(a)}`));
    if (badge) badge.replaceWith(next);
    else section.querySelector(":scope > h2").append(next);
    badge = next;
  }
}

/** Presence in the form; returns {detach}. */
export function watchPresence(entry, container, saver) {
  const bySlot = sectionsBySlot(entry.model);
  let where = { section: null, slot: null };
  let others = [];
  let moveTimer = null;

  const beat = async () => {
    if (document.hidden) return;
    try {
      const answer = await api.put(`workspaces/${entry.id}/presence`, where);
      show(answer.presence);
    } catch {
      // presence is a help: the next heartbeat tries again
    }
  };

  function namesAt(predicate) {
    return others.filter(predicate).map((o) => o.display_name || o.user);
  }

  function warn(wrap) {
    for (const old of container.querySelectorAll(".presence-warn")) old.remove();
    if (!wrap) return;
    const names = namesAt((o) => o.slot === wrap.dataset.slot);
    if (!names.length) return;
    wrap.prepend(h("p", { class: "presence-warn alert warn small", role: "status" }, t("presence.same_question", { names: names.join(", ") })));
  }

  function show(list) {
    others = list || [];
    for (const section of container.querySelectorAll("section.form-section[data-part]")) {
      const names = namesAt((o) => {
        if (o.slot) {
          const wrap = container.querySelector(`.field-wrap[data-slot="${CSS.escape(o.slot)}"]`);
          if (wrap) return section.contains(wrap);
        }
        return o.section === section.dataset.part;
      });
      let line = section.querySelector(":scope > .sec-presence");
      if (!names.length) {
        if (line) line.remove();
        continue;
      }
      const text = t("presence.here", { names: names.join(", ") });
      if (!line) {
        line = h("p", { class: "sec-presence small" });
        section.querySelector(":scope > h2").after(line);
      }
      if (line.textContent !== text) line.textContent = text;
    }
    for (const wrap of container.querySelectorAll(".field-wrap.others-here")) wrap.classList.remove("others-here");
    for (const o of others) {
      if (!o.slot) continue;
      const wrap = container.querySelector(`.field-wrap[data-slot="${CSS.escape(o.slot)}"]`);
      if (wrap) wrap.classList.add("others-here");
    }
    const focused = document.activeElement ? document.activeElement.closest(".field-wrap[data-slot]") : null;
    warn(focused && container.contains(focused) ? focused : null);
  }

  const onFocus = (event) => {
    const wrap = event.target.closest(".field-wrap[data-slot]");
    const part = event.target.closest("section.form-section[data-part]");
    const slot = wrap ? wrap.dataset.slot : null;
    const section = (slot && bySlot.get(slot)) || (part ? part.dataset.part : null);
    warn(wrap);
    if (slot === where.slot && section === where.section) return;
    where = { section, slot };
    clearTimeout(moveTimer);
    moveTimer = setTimeout(beat, MOVE_MS);
  };
  const onShown = () => {
    if (!document.hidden) beat();
  };
  const onPolled = (event) => show(event.detail.presence);
  container.addEventListener("focusin", onFocus);
  document.addEventListener("visibilitychange", onShown);
  saver.addEventListener("presence", onPolled);
  const timer = setInterval(beat, BEAT_MS);
  beat();
  return {
    detach() {
      clearInterval(timer);
      clearTimeout(moveTimer);
      container.removeEventListener("focusin", onFocus);
      document.removeEventListener("visibilitychange", onShown);
      saver.removeEventListener("presence", onPolled);
    },
  };
}
